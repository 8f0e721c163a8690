import { render } from 'preact';
import type { Theme } from '../types';
import { Widget, type Renderer } from '../widget';
import { Inline, Modal } from './app';
import { previewData } from './preview-data';
import css from './styles.css';

let sheet: CSSStyleSheet | null = null;

/** A custom element with a shadow root holding the widget's stylesheet: the page's CSS stays out, ours stays in. */
function shadowHost(mode: 'modal' | 'inline'): { host: HTMLElement; root: ShadowRoot } {
  const host = document.createElement('switchboard-widget');
  host.dataset.mode = mode;
  const root = host.attachShadow({ mode: 'open' });
  // A constructed stylesheet is not an inline <style>, so hosts with a strict style-src CSP are fine.
  try {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
    }
    root.adoptedStyleSheets = [sheet];
  } catch {
    const style = document.createElement('style');
    style.textContent = css;
    root.append(style);
  }
  return { host, root };
}

function mountInto(parent: Element, mode: 'modal' | 'inline', view: preact.VNode) {
  const { host, root } = shadowHost(mode);
  parent.append(host);
  render(view, root);
  return {
    destroy() {
      render(null, root);
      host.remove();
    },
  };
}

export const renderer: Renderer = {
  modal: (widget) => mountInto(document.body, 'modal', <Modal widget={widget} />),
  inline: (widget, container) => mountInto(container, 'inline', <Inline widget={widget} />),
  preview(container, theme) {
    // A real widget without a session, filled with sample data: no request is ever made.
    const sample = new Widget('', null);
    previewData(sample);
    sample.hostTheme.value = theme;
    const view = mountInto(container, 'inline', <Inline widget={sample} />);
    return { update: (next: Theme) => (sample.hostTheme.value = next), destroy: view.destroy };
  },
};
