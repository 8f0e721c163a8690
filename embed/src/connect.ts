import { SwitchboardError } from './api';
import { t } from './i18n';

export interface ConnectAttempt {
  /** The new connection's id. */
  result: Promise<string>;
  cancel(): void;
}

interface ConnectMessage {
  type: 'switchboard:connect';
  status: 'connected' | 'error';
  connector: string;
  connectionId?: string;
  error?: { code: string; message: string };
}

/**
 * Connects in a popup on the Switchboard origin (OAuth consent or the credentials form), never in
 * the host page. The window is opened at once, inside the click that asked for it (so pop-up
 * blockers let it through), and sent to the connect page once `url()` — which may refresh the
 * session — resolves. Only a message from that window, at the Switchboard origin, counts.
 */
export function connectInPopup(input: { apiUrl: string; connector: string; name: string; url: () => Promise<string> }): ConnectAttempt {
  const apiOrigin = new URL(input.apiUrl).origin;
  const width = 520;
  const height = 700;
  const left = Math.max(0, (window.screenX ?? 0) + (window.outerWidth - width) / 2);
  const top = Math.max(0, (window.screenY ?? 0) + (window.outerHeight - height) / 2);
  const popup = window.open('about:blank', `switchboard-connect-${input.connector}`, `popup,width=${width},height=${height},left=${left},top=${top}`);
  if (!popup) {
    return { result: Promise.reject(new SwitchboardError('popup_blocked', t('popupBlocked'))), cancel: () => undefined };
  }

  let settle: { resolve: (id: string) => void; reject: (e: SwitchboardError) => void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  let done = false;
  const finish = (fn: () => void) => {
    if (done) return;
    done = true;
    window.removeEventListener('message', onMessage);
    clearInterval(poll);
    fn();
  };

  const onMessage = (event: MessageEvent) => {
    // Anything not from our popup at the Switchboard origin is ignored: frames and other windows can post too.
    if (event.origin !== apiOrigin || event.source !== popup) return;
    const data = event.data as ConnectMessage | null;
    if (!data || data.type !== 'switchboard:connect' || data.connector !== input.connector) return;
    if (data.status === 'connected' && typeof data.connectionId === 'string') finish(() => settle.resolve(data.connectionId!));
    else finish(() => settle.reject(new SwitchboardError(data.error?.code ?? 'connect_failed', data.error?.message ?? t('serverError'))));
  };
  window.addEventListener('message', onMessage);
  // The result is posted before the popup closes itself, so "closed" with no result means the user closed it.
  const poll = setInterval(() => {
    if (popup.closed) finish(() => settle.reject(new SwitchboardError('popup_closed', t('popupClosed', { name: input.name }))));
  }, 400);

  input.url().then(
    (url) => {
      if (!done) popup.location.href = url;
    },
    (error: unknown) => {
      popup.close();
      finish(() => settle.reject(error instanceof SwitchboardError ? error : new SwitchboardError('connect_failed', String(error))));
    },
  );

  return {
    result,
    cancel: () => {
      popup.close();
      finish(() => settle.reject(new SwitchboardError('cancelled', t('popupClosed', { name: input.name }))));
    },
  };
}
