/**
 * `@switchboard/embed` for hosts that bundle: the same API as the script tag, without the global.
 *
 *   import { createSwitchboard } from '@switchboard/embed';
 *   const switchboard = createSwitchboard({ apiUrl: 'https://switchboard.example.com' });
 *   await switchboard.init({ token });
 *   switchboard.open();
 */
import { createApi, type SwitchboardApi } from './public-api';
import { renderer } from './ui/render';
import { Widget } from './widget';

export { SwitchboardError } from './api';
export type * from './types';
export type { SwitchboardApi } from './public-api';

export function createSwitchboard(options: { apiUrl: string; headless?: boolean }): SwitchboardApi {
  if (!options?.apiUrl) throw new TypeError('createSwitchboard: pass { apiUrl }, the Switchboard origin');
  return createApi(new Widget(new URL(options.apiUrl).origin, options.headless ? null : renderer));
}
