import { SwitchboardError } from './api';
import type { Widget } from './widget';

const METHODS = [
  'init',
  'open',
  'close',
  'mount',
  'on',
  'off',
  'preview',
  'listIntegrations',
  'connect',
  'disconnect',
  'listFlows',
  'enableFlow',
  'disableFlow',
  'updateFlowSettings',
  'getOptions',
  'listRuns',
  'listApprovals',
  'decideApproval',
] as const;

type Method = (typeof METHODS)[number];

/** `Switchboard('open', …)` and `Switchboard.open(…)`: the same calls, the first form also works before the script loads. */
export type SwitchboardApi = ((method: Method, ...args: unknown[]) => unknown) &
  Pick<Widget, Method> & { loaded: true; version: string; SwitchboardError: typeof SwitchboardError };

export function createApi(widget: Widget): SwitchboardApi {
  const call = (method: Method, ...args: unknown[]): unknown => {
    if (!METHODS.includes(method)) throw new Error(`Switchboard: unknown method "${String(method)}" (one of ${METHODS.join(', ')})`);
    return (widget[method] as (...a: unknown[]) => unknown).apply(widget, args);
  };
  const api = call as SwitchboardApi;
  for (const method of METHODS) (api as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => call(method, ...args);
  api.loaded = true;
  api.version = __VERSION__;
  api.SwitchboardError = SwitchboardError;
  return api;
}

declare const __VERSION__: string;
