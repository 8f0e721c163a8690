/**
 * The script-tag bundle (widget.<hash>.js), loaded by loader.js. It replaces the snippet's queueing
 * `window.Switchboard` with the real one and replays the calls queued before it arrived.
 */
import { renderer } from './ui/render';
import { Widget } from './widget';
import { createApi, type SwitchboardApi } from './public-api';

type Stub = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[]; base?: string; loaded?: boolean };

const w = window as unknown as { Switchboard?: Stub };
const stub = w.Switchboard;
if (!stub?.loaded) {
  // loader.js says where it came from; the widget talks to that origin.
  const base = stub?.base ?? (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;
  const apiUrl = new URL(base, location.href).href.replace(/\/embed\/v1\/[^/]*$/, '');
  const api: SwitchboardApi = createApi(new Widget(apiUrl, renderer));
  w.Switchboard = api as unknown as Stub;
  for (const args of Array.from(stub?.q ?? [])) {
    try {
      const [method, ...rest] = Array.from(args) as [Parameters<SwitchboardApi>[0], ...unknown[]];
      const result = api(method, ...rest);
      if (result instanceof Promise) result.catch(() => undefined); // reported through on('error')
    } catch (error) {
      console.error('Switchboard:', error);
    }
  }
}
