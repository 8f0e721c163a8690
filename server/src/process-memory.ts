import { setFlagsFromString } from 'node:v8';

/**
 * After a full collection, the old generation may grow to this much more than what survived before
 * the next one (V8's own factor lets it reach 2–4× under load).
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * What `node` is given on the command line to start the API or a worker (the start scripts, the
 * demo, the bench; docs/self-hosting.md): a young generation of 2 × 4 MB instead of V8's 2 × 16.
 * V8 sizes it at start-up, so it cannot be set from inside the process.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * Keeps the heap near what the process holds. Under load V8 collects the old generation late: in
 * bench/engine.mjs the API held ~58 MB after a full collection yet reached 228–294 MB of RSS; with
 * this and SERVER_NODE_FLAGS, 150–154 MB (the worker 135), for no CPU the bench tells apart from its
 * noise. 20 % saved 3 MB more for 5–8 % more CPU. An operator's own `--heap-growing-percent` wins.
 */
export function keepHeapLean(): void {
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
