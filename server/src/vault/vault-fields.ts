import type { VaultBinding } from './vault';

/**
 * Every encrypted column, in one list: services bind ciphertexts with `bindingFor`, and
 * `vault rotate` walks the same list, so a new secret column cannot be forgotten by rotation.
 */
export const VAULT_FIELDS = {
  connectorClientSecret: { table: 'connector_configs', column: 'client_secret' },
  connectionCredentials: { table: 'connections', column: 'credentials' },
  oauthCodeVerifier: { table: 'oauth_states', column: 'code_verifier' },
  oauthEndUserApp: { table: 'oauth_states', column: 'end_user_app' },
  webhookTriggerToken: { table: 'flow_instance_triggers', column: 'webhook_token' },
  webhookTriggerSecret: { table: 'flow_instance_triggers', column: 'webhook_secret' },
  webhookEndpointSecret: { table: 'webhook_endpoints', column: 'secret' },
  connectorWebhookSigningSecret: { table: 'connector_configs', column: 'webhook_signing_secret' },
  providerSubscriptionSecret: { table: 'provider_subscriptions', column: 'secret' },
  llmProviderApiKey: { table: 'llm_providers', column: 'api_key' },
} as const;

export type VaultField = keyof typeof VAULT_FIELDS;

export function bindingFor(field: VaultField, row: { tenantId: string; id: string }): VaultBinding {
  const { table, column } = VAULT_FIELDS[field];
  return { tenantId: row.tenantId, purpose: `${table}.${column}`, rowId: row.id };
}
