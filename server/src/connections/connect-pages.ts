/**
 * The pages of the connect popup, on the Switchboard origin. No inline script (CSP
 * script-src 'self'): the result is a JSON data block read by /connect/assets/connect.js.
 */

export const CONNECT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside a <script type="application/json"> block. */
const jsonBlock = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/connect/assets/connect.css"></head>
<body><main class="card">${body}</main><script src="/connect/assets/connect.js"></script></body></html>`;
}

export interface ConnectResult {
  status: 'connected' | 'error';
  connector: string;
  connectionId?: string;
  error?: { code: string; message: string };
}

/** Tells the opener (only at `targetOrigin`) how it went, then closes on success. */
export function resultPage(result: ConnectResult, targetOrigin: string | null, connectorName: string): string {
  const ok = result.status === 'connected';
  const heading = ok ? `${connectorName} is connected` : `Could not connect ${connectorName}`;
  const text = ok ? 'This window will close by itself.' : (result.error?.message ?? 'Something went wrong.');
  return layout(
    heading,
    `<h1>${escapeHtml(heading)}</h1><p class="${ok ? 'ok' : 'error'}" role="${ok ? 'status' : 'alert'}">${escapeHtml(text)}</p>
<button type="button" id="close">Close window</button>
<script type="application/json" id="switchboard-result">${jsonBlock({ message: { type: 'switchboard:connect', ...result }, targetOrigin })}</script>`,
  );
}

/** Browsers compile `pattern` with the `v` flag, stricter than ours (`[a-z-]` is an error there): leave out what they would ignore anyway. */
function browserPattern(pattern: string): boolean {
  try {
    new RegExp(`^(?:${pattern})$`, 'v');
    return true;
  } catch {
    return false;
  }
}

export interface FormField {
  name: string;
  label: string;
  type: 'text' | 'password';
  help?: string;
  pattern?: string;
  value?: string;
  optional?: boolean;
}

/** The credentials form for API-key and basic connectors: typed here, never in the host page. */
export function credentialsForm(input: {
  connectorName: string;
  logo: string;
  action: string;
  hidden: Record<string, string>;
  fields: FormField[];
  error?: string;
  /** OAuth providers whose URLs need connection config: this form is a step before the provider's sign-in. */
  continuesTo?: string;
}): string {
  const fields = input.fields
    .map(
      (f) => `<label for="${f.name}">${escapeHtml(f.label)}${f.optional ? ' <span class="optional">(optional)</span>' : ''}</label>
<input id="${f.name}" name="${f.name}" type="${f.type}"${f.optional ? '' : ' required'} autocomplete="off" spellcheck="false"${f.pattern && browserPattern(f.pattern) ? ` pattern="${escapeHtml(f.pattern)}"` : ''}${f.value ? ` value="${escapeHtml(f.value)}"` : ''}${f.help ? ` aria-describedby="${f.name}-help"` : ''}>
${f.help ? `<p class="help" id="${f.name}-help">${escapeHtml(f.help)}</p>` : ''}`,
    )
    .join('\n');
  const hidden = Object.entries(input.hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  return layout(
    `Connect ${input.connectorName}`,
    `<div class="logo">${input.logo.startsWith('<svg') ? `<img alt="" src="data:image/svg+xml;base64,${Buffer.from(input.logo).toString('base64')}">` : ''}</div>
<h1>Connect ${escapeHtml(input.connectorName)}</h1>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">${hidden}${fields}<button type="submit">${input.continuesTo ? `Continue to ${escapeHtml(input.continuesTo)}` : 'Connect'}</button></form>
<p class="fine">${input.continuesTo ? `Next, sign in to ${escapeHtml(input.continuesTo)} and allow access.` : 'Your credentials go straight to Switchboard, encrypted at rest; the app you came from never sees them.'}</p>`,
  );
}

/**
 * The step from the config form to the provider's sign-in. Not a redirect: the form's CSP
 * (`form-action 'self'`) also covers where a submission redirects, so a 303 to the provider would
 * be blocked. connect.js moves on; the link is there without script.
 */
export function continuePage(providerName: string, url: string): string {
  return layout(
    `Continue to ${providerName}`,
    `<h1>Continuing to ${escapeHtml(providerName)}…</h1><p><a id="continue" href="${escapeHtml(url)}">Continue to ${escapeHtml(providerName)}</a></p>
<script type="application/json" id="switchboard-continue">${jsonBlock({ url })}</script>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p><button type="button" id="close">Close window</button>`);
}

export const CONNECT_JS = `(() => {
  const block = document.getElementById('switchboard-result');
  if (block) {
    const { message, targetOrigin } = JSON.parse(block.textContent);
    if (window.opener && targetOrigin) window.opener.postMessage(message, targetOrigin);
    if (message.status === 'connected') setTimeout(() => window.close(), 800);
  }
  const next = document.getElementById('switchboard-continue');
  if (next) location.replace(JSON.parse(next.textContent).url);
  const close = document.getElementById('close');
  if (close) close.addEventListener('click', () => window.close());
})();`;

export const CONNECT_CSS = `:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f5f6f8;color:#1d2230}
.card{width:min(420px,92vw);background:#fff;border:1px solid #e3e6ec;border-radius:12px;padding:28px;box-shadow:0 8px 30px rgba(0,0,0,.06)}
h1{font-size:1.25rem;margin:.25rem 0 1rem}.logo img{width:40px;height:40px}
label{display:block;font-weight:600;margin:14px 0 6px}input{width:100%;box-sizing:border-box;padding:10px 12px;border:1px solid #c9ced8;border-radius:8px;font:inherit}
input:focus-visible,button:focus-visible{outline:3px solid #4f6bed;outline-offset:2px}
button{margin-top:18px;width:100%;padding:10px 14px;border:0;border-radius:8px;background:#4f46e5;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.optional{font-weight:400;color:#667085}.help,.fine{font-size:.85rem;color:#667085;margin:6px 0 0}.fine{margin-top:16px}.error{color:#b42318;background:#fef3f2;border:1px solid #fecdca;padding:10px 12px;border-radius:8px}.ok{color:#067647}
@media (prefers-color-scheme:dark){body{background:#15171c;color:#e8eaf0}.card{background:#1f2229;border-color:#2c303a}input{background:#15171c;color:inherit;border-color:#3a3f4b}.error{color:#fda29b;background:#3a1a1a;border-color:#7a271a}.ok{color:#47cd89}.help,.fine,.optional{color:#98a2b3}}`;
