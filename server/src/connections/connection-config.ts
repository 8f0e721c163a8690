import { AuthSpec, ConnectorDefinition, templateVariables } from '@switchboard/connectors';

/** Where a connection-config value lands in the connector's URLs. */
export type ConfigPosition = 'host' | 'path';

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;

function urlsOf(definition: Pick<ConnectorDefinition, 'auth' | 'authSpecs' | 'baseUrl' | 'baseUrls'>): string[] {
  const urls = [definition.baseUrl, ...Object.values(definition.baseUrls ?? {})];
  for (const spec of [definition.auth, ...(definition.authSpecs ?? [])] as AuthSpec[]) {
    if (spec.type === 'oauth2') urls.push(spec.authorizationUrl, spec.tokenUrl);
    if (spec.type === 'oauth2_client_credentials') urls.push(spec.tokenUrl);
  }
  return urls;
}

/**
 * The config fields used inside a URL's host (`https://{{subdomain}}.zendesk.com`) or path
 * (`…/{{tenant}}/oauth2/token`). A field that is a whole URL (`{{base_url}}`) is neither: it is a
 * URL the outbound guard checks.
 */
export function configPositions(definition: Pick<ConnectorDefinition, 'auth' | 'authSpecs' | 'baseUrl' | 'baseUrls'>): Map<string, ConfigPosition> {
  const positions = new Map<string, ConfigPosition>();
  for (const url of urlsOf(definition)) {
    const parts = /^https?:\/\/([^/?#]*)(.*)$/is.exec(url);
    if (!parts) continue;
    for (const name of templateVariables(parts[1]!)) positions.set(name, 'host');
    for (const name of templateVariables(parts[2]!)) if (!positions.has(name)) positions.set(name, 'path');
  }
  return positions;
}

/**
 * Why a value typed by the end user (or put on the OAuth callback) cannot go where the URLs put
 * it, or undefined. A host part must stay a host name: `evil.example/#` in a subdomain would send
 * the client secret and tokens to another host. A path part must stay one segment.
 */
export function configValueProblem(position: ConfigPosition | undefined, value: string): string | undefined {
  if (position === 'host' && !HOST.test(value)) return 'must be part of a host name (letters, digits, hyphens and dots)';
  if (position === 'path' && (/[/?#\\\s%]/.test(value) || value === '.' || value === '..')) return 'must be a single URL path segment (no /, ?, #, % or spaces)';
  return undefined;
}
