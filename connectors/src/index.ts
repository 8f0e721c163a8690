export * from './types';
export {
  getPath,
  templateVariables,
  renderTemplate,
  withConfigDefaults,
  defaultHeadersFor,
  resolveUrl,
  connectorOrigins,
  withBaseUrlOverrides,
  withSandbox,
  providerErrorMessage,
  ensureOk,
  send,
  isAuthFailure,
  encodeBody,
  decodeBody,
  applyCredentials,
  createSimpleHttpClient,
  buildAuthorizationUrl,
  buildTokenRequest,
  parseTokenResponse,
} from './runtime';
export type { Credentials, SimpleHttpClientOptions, AuthorizationUrlParams, TokenGrant, TokenSet, TokenResult } from './runtime';
export { connectorSchema, connectorManifest, CONNECTOR_CATEGORIES, authSpecSchema, DEFAULT_MIN_POLL_SECONDS } from './schema';
export { hasNestedQuantifier } from './regex-safety';
/** Schema builders for actions' and triggers' inputs and outputs (TypeBox: the TypeScript types follow from them). */
export { str, int, num, bool, arr, oneOf, types, nullable, literal, anyObject, dict, obj, res } from './providers/shared';
export {
  catalogueEntrySchema,
  catalogueEntryErrors,
  catalogueEntryProblems,
  catalogueConnector,
  catalogueConnectors,
  loadCatalogue,
  monogramLogo,
  CATALOGUE_DIR,
} from './catalogue';
export type { CatalogueEntry, CatalogueEntryOptions, CatalogueEntryProblem, VerifySpec } from './catalogue';
export {
  importOpenApi,
  parseOpenApiText,
  importedConnectorParts,
  operationAction,
  operationOptionSource,
  operationRequest,
  detectList,
  actionKey,
  OpenApiImportError,
  OPENAPI_LIMITS,
} from './openapi';
export type { ImportedDocument, ImportedOperation, ImportedParameter, ListSpec, OpenApiLimits, OpenApiProblem } from './openapi';
export type { ConnectorManifest, TriggerManifest } from './schema';

import { catalogueConnectors } from './catalogue';
import { withSandbox } from './runtime';
import { githubConnector } from './providers/github';
import { googleSheetsConnector } from './providers/google-sheets';
import { gmailConnector } from './providers/gmail';
import { googleCalendarConnector } from './providers/google-calendar';
import { outlookConnector } from './providers/outlook';
import { microsoftTeamsConnector } from './providers/microsoft-teams';
import { httpConnector } from './providers/http';
import { hubspotConnector } from './providers/hubspot';
import { jiraConnector } from './providers/jira';
import { zendeskConnector } from './providers/zendesk';
import { intercomConnector } from './providers/intercom';
import { linearConnector } from './providers/linear';
import { notionConnector } from './providers/notion';
import { salesforceConnector } from './providers/salesforce';
import { slackConnector } from './providers/slack';
import { stripeConnector } from './providers/stripe';
import { shopifyConnector } from './providers/shopify';
import { airtableConnector } from './providers/airtable';
import { pipedriveConnector } from './providers/pipedrive';
import { asanaConnector } from './providers/asana';
import { ConnectorDefinition } from './types';

export { githubConnector, googleSheetsConnector, httpConnector, hubspotConnector, notionConnector, salesforceConnector, slackConnector, stripeConnector };
export { gmailConnector, googleCalendarConnector, outlookConnector, microsoftTeamsConnector };
export { shopifyConnector, SHOPIFY_API_VERSION } from './providers/shopify';
export { airtableConnector } from './providers/airtable';
export { pipedriveConnector } from './providers/pipedrive';
export { asanaConnector } from './providers/asana';
export { jiraConnector, zendeskConnector, intercomConnector, linearConnector };
export { stripeForm, STRIPE_VERSION } from './providers/stripe';
export { NOTION_VERSION } from './providers/notion';
export { SALESFORCE_API_VERSION } from './providers/salesforce';

/** Every connector, by key. */
export const connectors = {
  slack: slackConnector,
  github: githubConnector,
  hubspot: hubspotConnector,
  salesforce: salesforceConnector,
  'google-sheets': googleSheetsConnector,
  notion: notionConnector,
  stripe: stripeConnector,
  http: httpConnector,
  gmail: gmailConnector,
  'google-calendar': googleCalendarConnector,
  outlook: outlookConnector,
  'microsoft-teams': microsoftTeamsConnector,
  shopify: shopifyConnector,
  airtable: airtableConnector,
  pipedrive: pipedriveConnector,
  asana: asanaConnector,
  jira: jiraConnector,
  zendesk: zendeskConnector,
  intercom: intercomConnector,
  linear: linearConnector,
} satisfies Record<string, ConnectorDefinition>;

export type ConnectorKey = keyof typeof connectors;

/** A deep connector, else a catalogue provider, by key (own keys only: "constructor" is not a connector). */
export function getConnector(key: string): ConnectorDefinition | undefined {
  if (Object.prototype.hasOwnProperty.call(connectors, key)) return (connectors as Record<string, ConnectorDefinition>)[key];
  const catalogue = catalogueConnectors();
  return Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : undefined;
}

/** Deep connectors, then catalogue providers. */
export function allConnectors(): ConnectorDefinition[] {
  return [...Object.values(connectors as Record<string, ConnectorDefinition>), ...Object.values(catalogueConnectors())];
}

/** All connectors pointed at a sandbox (see withSandbox); what a server configured with a sandbox URL uses. */
export function sandboxConnectors(sandboxUrl: string): Record<ConnectorKey, ConnectorDefinition> {
  return Object.fromEntries(Object.entries(connectors).map(([k, c]) => [k, withSandbox(c as ConnectorDefinition, sandboxUrl)])) as Record<ConnectorKey, ConnectorDefinition>;
}

// The sandbox providers (tests, the demo, the bench) are imported from '@switchboard/connectors/dist/sandbox':
// the API and workers never load them.
