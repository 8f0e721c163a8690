import { type Signal, useSignal, useSignalEffect } from '@preact/signals';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import { themeStyle } from '../theme';
import type { Route, Widget } from '../widget';
import { Catalogue } from './catalogue';
import { CloseIcon, LockIcon, WarnIcon } from './icons';
import { IntegrationPage } from './integration';

const darkQuery = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

/** light | dark, following the system when the theme says auto (the default). */
function useColourScheme(widget: Widget): 'light' | 'dark' {
  const systemDark = useSignal(darkQuery?.matches ?? false);
  useLayoutEffect(() => {
    const update = () => (systemDark.value = darkQuery?.matches ?? false);
    darkQuery?.addEventListener('change', update);
    return () => darkQuery?.removeEventListener('change', update);
  }, []);
  const mode = widget.theme.value.mode ?? 'auto';
  return mode === 'auto' ? (systemDark.value ? 'dark' : 'light') : mode;
}

/** The themed root every view renders in. */
export function Root({ widget, inline, children }: { widget: Widget; inline?: boolean; children: preact.ComponentChildren }) {
  return (
    <div class={inline ? 'sb inline' : 'sb'} style={{ ...themeStyle(widget.theme.value), ...(inline ? {} : { display: 'contents' }) }} data-theme={useColourScheme(widget)}>
      {children}
    </div>
  );
}

/** Header, the current screen, and a footer; the same in the modal and inline. */
export function Frame({ widget, route, titleId, onClose }: { widget: Widget; route: Signal<Route>; titleId: string; onClose?: () => void }) {
  const status = widget.status.value;
  const current = route.value;
  return (
    <div class="frame">
      <div class="top">
        <div class="grow">
          <h1 id={titleId}>{t('title')}</h1>
          {widget.tenantName.value && <p class="muted small">{t('subtitle', { tenant: widget.tenantName.value })}</p>}
        </div>
        {onClose && (
          <button type="button" class="icon-btn" aria-label={t('close')} onClick={onClose}>
            <CloseIcon />
          </button>
        )}
      </div>
      <div class="body">
        {status === 'expired' || status === 'error' ? (
          <div class="center" role="alert">
            <span class="halo">
              <WarnIcon />
            </span>
            <h2>{status === 'expired' ? t('sessionExpiredTitle') : widget.problem.value?.code === 'origin_not_allowed' ? t('originNotAllowedTitle') : t('loadFailed')}</h2>
            <p class="muted">{widget.problem.value?.message ?? t('loadFailed')}</p>
            {status === 'error' && (
              <button type="button" class="btn secondary" onClick={() => widget.reload()}>
                {t('retry')}
              </button>
            )}
          </div>
        ) : status !== 'ready' ? (
          <div class="grid" role="status" aria-busy="true" aria-label={t('loading')}>
            {[0, 1, 2, 3, 4, 5].map((i) => (
              <div key={i} class="skeleton" />
            ))}
          </div>
        ) : current.screen === 'catalogue' ? (
          <Catalogue widget={widget} go={(next) => (route.value = next)} />
        ) : (
          <IntegrationPage widget={widget} connector={current.key} go={(next) => (route.value = next)} standalone={current.single} />
        )}
        <div role="status" aria-live="polite">
          {widget.notice.value && <p class={widget.notice.value.bad ? 'notice bad' : 'notice'}>{widget.notice.value.text}</p>}
        </div>
      </div>
      <div class="foot">
        <LockIcon />
        <span>{t('secured')}</span>
      </div>
    </div>
  );
}

/** The modal: a native <dialog> (focus stays inside, the page behind is inert), Escape or × closes it, focus returns where it was. */
export function Modal({ widget }: { widget: Widget }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const previous = useRef<HTMLElement | null>(null);
  // The browser may close the dialog itself (Escape without user activation fires no cancel event,
  // and its close event comes a task later): follow the open attribute at once instead.
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const watcher = new MutationObserver(() => !dialog.open && widget.close());
    watcher.observe(dialog, { attributes: true, attributeFilter: ['open'] });
    return () => watcher.disconnect();
  }, []);
  useSignalEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (widget.modalOpen.value) {
      if (!dialog.open) {
        previous.current = deepActiveElement();
        dialog.showModal();
      }
    } else {
      if (dialog.open) dialog.close();
      // Chromium restores focus itself only if it was still inside the dialog.
      previous.current?.focus();
      previous.current = null;
    }
  });
  return (
    <Root widget={widget}>
      <dialog
        ref={ref}
        class="modal"
        aria-labelledby={titleId}
        onCancel={(e) => {
          e.preventDefault();
          widget.close();
        }}
        onKeyDown={(e) => trapTab(e, ref.current!)}
      >
        {widget.modalOpen.value && <Frame widget={widget} route={widget.modalRoute} titleId={titleId} onClose={() => widget.close()} />}
      </dialog>
    </Root>
  );
}

export function Inline({ widget }: { widget: Widget }) {
  const route = useSignal<Route>({ screen: 'catalogue' });
  const titleId = useId();
  return (
    <Root widget={widget} inline>
      <section aria-labelledby={titleId}>
        <Frame widget={widget} route={route} titleId={titleId} />
      </section>
    </Root>
  );
}

function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active as HTMLElement | null;
}

const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';

/** Tab from the last control goes to the first, Shift+Tab from the first to the last: focus never leaves the modal. */
function trapTab(event: KeyboardEvent, dialog: HTMLDialogElement): void {
  if (event.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null && !el.closest('dialog.confirm'));
  if (items.length === 0) return;
  const active = (dialog.getRootNode() as ShadowRoot).activeElement;
  const first = items[0]!;
  const last = items[items.length - 1]!;
  if (event.shiftKey && (active === first || !dialog.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && active === last) {
    event.preventDefault();
    first.focus();
  }
}
