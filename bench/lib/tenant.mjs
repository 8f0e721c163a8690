// What a tenant's people do over HTTP: the owner signs in to the admin API, an end user connects an
// app through the connect popup (the sandbox consents), the host app calls with its secret key.
import { consentInSandbox } from '../../connectors/dist/sandbox/index.js';

export const HOST_ORIGIN = 'https://host.example';

/** JSON over fetch; remembers the member session cookie (`.cookie()`); throws on a status >= 300. */
export function client(base, { bearer, origin } = {}) {
  let cookie;
  const call = async (method, path, body) => {
    const headers = {};
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (cookie) headers.cookie = cookie;
    if (origin && method !== 'GET') headers.origin = origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('sb_session='));
    if (set) cookie = set.split(';')[0];
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep text */
    }
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return parsed;
  };
  call.cookie = () => cookie;
  return call;
}

/** The tenant's owner, signed in, with the host apps' origins allowed. */
export async function signIn(url, tenant, allowedOrigins = [HOST_ORIGIN]) {
  const owner = client(url, { origin: url });
  await owner('POST', '/v1/auth/login', { email: tenant.email, password: tenant.password });
  await owner('PATCH', '/v1/admin/tenant', { allowedOrigins });
  return owner;
}

/** `endUserId` connects `connector` through the connect popup, driven over HTTP; answers the connection id. */
export async function connectEndUser(url, apiKey, connector, endUserId) {
  const { token } = await client(url, { bearer: apiKey })('POST', '/v1/sessions', { endUserId });
  const start = await fetch(`${url}/connect/${connector}?${new URLSearchParams({ session: token, origin: HOST_ORIGIN })}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`connect page answered ${start.status}: ${(await start.text()).slice(0, 300)}`);
  const page = await (await fetch(await consentInSandbox(start.headers.get('location')))).text();
  const result = JSON.parse(/<script type="application\/json" id="switchboard-result">([^<]*)<\/script>/.exec(page)?.[1] ?? 'null');
  if (result?.message?.status !== 'connected') throw new Error(`connect failed: ${JSON.stringify(result?.message ?? page.slice(0, 300))}`);
  return result.message.connectionId;
}
