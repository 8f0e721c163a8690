import { applyCredentials, ConnectorDefinition, defaultHeadersFor, HttpRequest, isAuthFailure, resolveUrl, withConfigDefaults } from '@switchboard/connectors';
import type { Credentials } from './connection.entity';

/**
 * One request to a provider as a connection — the one way the proxy, actions, option sources and
 * polls build it: the connection's config (with the connector's defaults), the provider URL, the
 * connector's default headers, the caller's headers, then the credentials, which always win.
 */
export function authorizedRequest(
  definition: ConnectorDefinition,
  connectionConfig: Record<string, string>,
  credentials: Credentials,
  request: Pick<HttpRequest, 'path' | 'query' | 'headers'>,
): { url: URL; headers: Record<string, string> } {
  const config = withConfigDefaults(definition, connectionConfig);
  const url = resolveUrl(definition, request, config);
  const headers = defaultHeadersFor(definition, config);
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  // A client-credentials connection sends only its access token (never the client secret).
  const sent = credentials.type === 'oauth2_client_credentials' ? { type: credentials.type, accessToken: credentials.accessToken ?? '' } : credentials;
  applyCredentials(definition.auth, sent as never, headers, url, config);
  return { url, headers };
}

/**
 * The access token this answer refuses (the connector's authFailure, 401 by default), when a
 * refreshed one may get another answer: an OAuth connection, not refreshed yet. Null otherwise.
 */
export function refusedToken(definition: ConnectorDefinition, credentials: Credentials, response: { status: number; data: unknown }, alreadyRefreshed: boolean): string | null {
  if (alreadyRefreshed || (credentials.type !== 'oauth2' && credentials.type !== 'oauth2_client_credentials') || !credentials.accessToken) return null;
  return isAuthFailure(definition.authFailure, response) ? credentials.accessToken : null;
}
