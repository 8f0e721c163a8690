/**
 * /embed/v1/loader.js: the script the snippet adds. Tiny and briefly cached; it loads the current
 * content-hashed widget bundle (cached for good) from the same place it came from. Calls made
 * before then wait in `Switchboard.q`.
 */
declare const __WIDGET_FILE__: string;

type Stub = ((...args: unknown[]) => void) & { q?: unknown[]; base?: string; loaded?: boolean };

const w = window as unknown as { Switchboard?: Stub };
const script = document.currentScript as HTMLScriptElement | null;
if (!w.Switchboard?.loaded) {
  const stub: Stub =
    w.Switchboard ??
    function (...args: unknown[]) {
      (stub.q = stub.q || []).push(args);
    };
  w.Switchboard = stub;
  if (!stub.base) {
    const src = script?.src ?? '';
    stub.base = src;
    const bundle = document.createElement('script');
    bundle.async = true;
    bundle.src = new URL(__WIDGET_FILE__, src).href;
    bundle.onerror = () => console.error(`Switchboard: could not load ${bundle.src}`);
    document.head.appendChild(bundle);
  }
}
