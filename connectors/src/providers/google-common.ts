/** What the Google deep connectors share: Google's OAuth (as the catalogue had it) and the OpenID account. */
import { send } from '../runtime';
import { AccountInfo, ActionContext, OAuth2Auth } from '../types';

/** Google's OAuth server; `openid` + `userinfo.email` name the account, `scopes` are the API's own. */
export function googleAuth(scopes: string[]): OAuth2Auth {
  return {
    type: 'oauth2',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    scopes: ['openid', 'https://www.googleapis.com/auth/userinfo.email', ...scopes],
    scopeSeparator: ' ',
    pkce: true,
    // offline → a refresh token; consent → a refresh token again on reconnect.
    authorizationParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    refreshable: true,
  };
}

export const GOOGLE_USERINFO = 'https://www.googleapis.com/oauth2/v3';

/** The OpenID userinfo: `sub` is Google's stable user id. Needs baseUrls.oauth2 = GOOGLE_USERINFO. */
export async function googleAccount(ctx: ActionContext): Promise<AccountInfo> {
  const me = await send<{ sub: string; name?: string; email?: string; hd?: string }>(ctx, { method: 'GET', base: 'oauth2', path: 'userinfo' });
  return { id: me.sub, name: me.email ?? me.name ?? me.sub, details: { email: me.email, name: me.name, domain: me.hd } };
}
