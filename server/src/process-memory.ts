import { setFlagsFromString } from 'node:v8';

/**
 * After a full collection, the old generation may grow to this much more than what survived before
 * the next one (V8's own factor lets it reach 2–4× under load).
 */
const HEAP_GROWING_PERCENT = 30;

/**
 * What `node` is given on the command line to start the API or a worker (the start scripts, the
 * demo, the bench; docs/self-hosting.md): a smaller young generation than V8's 2 × 16 MB. V8 sizes
 * it at start-up, so it cannot be set from inside the process.
 */
export const SERVER_NODE_FLAGS = {
  /** A request's objects die within milliseconds: 2 × 4 MB costs the API no CPU. */
  api: ['--max-semi-space-size=4'],
  /**
   * A worker holds up to 50 runs in flight, whose objects outlive a young generation of 2 × 4 MB
   * and are promoted: ~15 % more worker CPU per run when draining a backlog. 2 × 6 MB costs none.
   */
  worker: ['--max-semi-space-size=6'],
};

/**
 * Keeps the heap near what the process holds. Under load V8 collects the old generation late: in
 * bench/engine.mjs the API held ~58 MB after a full collection yet reached 228–294 MB of RSS; with
 * this and SERVER_NODE_FLAGS, 151–153 MB (the worker 145–146). 20 % saved 3 MB more for 5–8 % more
 * CPU. An operator's own `--heap-growing-percent` wins.
 */
export function keepHeapLean(): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/**
 * Runs `load` (importing the server's modules) with Intl date formats built on first use.
 * @nestjs/common builds one for its console logger as it is loaded, which maps ~6.5 MB of ICU data
 * into every API and worker process; they log with pino, so it is never used. Only while loading:
 * afterwards `Intl.DateTimeFormat` is the real one again.
 */
export async function loadWithLazyDateFormats<T>(load: () => Promise<T>): Promise<T> {
  const DateTimeFormat = Intl.DateTimeFormat;
  const lazy = function (locales?: string | string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    let real: Intl.DateTimeFormat | undefined;
    return new Proxy(Object.create(DateTimeFormat.prototype) as Intl.DateTimeFormat, {
      get: (_target, property) => {
        real ??= new DateTimeFormat(locales, options);
        const value: unknown = Reflect.get(real, property, real);
        return typeof value === 'function' ? value.bind(real) : value;
      },
    });
  };
  Object.assign(lazy, { prototype: DateTimeFormat.prototype, supportedLocalesOf: DateTimeFormat.supportedLocalesOf });
  Intl.DateTimeFormat = lazy as unknown as typeof Intl.DateTimeFormat;
  try {
    return await load();
  } finally {
    Intl.DateTimeFormat = DateTimeFormat;
  }
}
