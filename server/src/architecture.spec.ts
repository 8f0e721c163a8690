import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = __dirname;
const TENANT_OWNED = ['Membership', 'ApiKey', 'EndUser', 'AuditEvent', 'EndUserSession', 'HostSigningKey', 'ConnectorConfig', 'Connection', 'OAuthState', 'FlowTemplate', 'FlowTemplateVersion', 'FlowInstance', 'Run', 'Approval', 'WebhookEndpoint', 'WebhookEvent', 'WebhookDelivery', 'InstanceTrigger', 'LlmProvider', 'McpSettings'];

/**
 * Lookups that are deliberately not tenant-scoped, each with the reason. Anything else touching a
 * tenant-owned entity must go through TenantScopedRepository.
 */
const UNSCOPED_ALLOWED: Record<string, string> = {
  'api-keys/api-keys.service.ts': 'a presented secret decides the tenant',
  'auth/member-sessions.service.ts': "sessions belong to a user; a user's own memberships span tenants",
  'members/members.service.ts': 'an invitation token decides the tenant',
  'tenants/tenants.service.ts': 'creating a tenant creates its first membership',
  'sessions/sessions.service.ts': "a session token or a JWT's key id decides the tenant",
  'triggers/instance-triggers.service.ts': "a webhook URL's token decides the tenant",
  'triggers/schedule.service.ts': 'the scheduler claims due instances of every tenant',
};

/** Tables whose rows belong to a tenant (a tenant_id column), for the raw-SQL check. */
const TENANT_TABLES = [
  'runs', 'approvals', 'flow_instances', 'flow_templates', 'flow_template_versions', 'flow_instance_triggers', 'connections', 'connector_configs',
  'end_users', 'end_user_sessions', 'api_keys', 'audit_events', 'memberships', 'oauth_states', 'webhook_endpoints', 'webhook_events', 'webhook_deliveries',
  'custom_providers', 'connector_openapi_imports', 'provider_subscriptions', 'llm_providers', 'mcp_settings', 'token_usage', 'host_signing_keys',
];

/**
 * Files whose raw SQL on tenant tables predates tenantSql and is still to move to it (the engine
 * has); each is a known debt, not an exception: a new file is held to the rule.
 */
const RAW_SQL_NOT_YET_SCOPED: Record<string, true> = {
  'cli/local-stack.ts': true,
  'connections/connect.service.ts': true,
  'connections/connection-events.ts': true,
  'connections/connections.service.ts': true,
  'connections/provider-subscriptions.service.ts': true,
  'connections/refresh.processor.ts': true,
  'connector-configs/connector-configs.service.ts': true,
  'custom-providers/custom-providers.service.ts': true,
  'dashboard/dashboard.service.ts': true,
  'end-users/end-users.service.ts': true,
  'flows/binding-health.ts': true,
  'flows/flow-instances.service.ts': true,
  'maintenance/maintenance.processor.ts': true,
  'mcp/mcp-settings.service.ts': true,
  'mcp/mcp-tools.service.ts': true,
  'sessions/sessions.service.ts': true,
  'triggers/instance-triggers.service.ts': true,
  'triggers/poll.service.ts': true,
  'triggers/provider-events.service.ts': true,
  'triggers/schedule.service.ts': true,
  'webhooks/webhook-delivery.processor.ts': true,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('architecture', () => {
  it('reaches tenant-owned tables only through the tenant-scoped repository', () => {
    const offenders: string[] = [];
    for (const path of files(SRC)) {
      const file = relative(SRC, path);
      const text = readFileSync(path, 'utf8');
      for (const entity of TENANT_OWNED) {
        const raw = new RegExp(`(getRepository(<[^>]*>)?\\(\\s*${entity}\\s*\\)|InjectRepository\\(\\s*${entity}\\s*\\)|forFeature\\(\\[[^\\]]*\\b${entity}\\b)`);
        if (raw.test(text) && !UNSCOPED_ALLOWED[file]) offenders.push(`${file} uses a raw ${entity} repository`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('runs raw SQL on tenant-owned tables only through tenantSql or acrossTenants (with a reason)', () => {
    const offenders: string[] = [];
    for (const path of files(SRC)) {
      const file = relative(SRC, path);
      if (file === 'common/tenancy/tenant-sql.ts' || RAW_SQL_NOT_YET_SCOPED[file]) continue;
      const text = readFileSync(path, 'utf8');
      // A bare `.query(` (not tenantSql(…).query), with what follows it up to its statement's end.
      for (const call of text.matchAll(/(?<!tenantSql\([^)]*\))\.query(<[^>]*>)?\(\s*(`[^`]*`|'[^']*'|[A-Z_]+)/g)) {
        const sql = call[2].startsWith('`') || call[2].startsWith("'") ? call[2] : (new RegExp(`const ${call[2]} = \`([^\`]*)\``).exec(text)?.[1] ?? '');
        const table = TENANT_TABLES.find((t) => new RegExp(`\\b(FROM|JOIN|UPDATE|INTO)\\s+${t}\\b`, 'i').test(sql));
        if (table) offenders.push(`${file}: raw SQL on ${table} (use tenantSql or acrossTenants)`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('declares an authentication requirement on every controller route', () => {
    const offenders: string[] = [];
    for (const path of files(SRC).filter((p) => p.endsWith('.controller.ts'))) {
      const text = readFileSync(path, 'utf8');
      const classLevel = /@(Public|MemberAuth|ApiKeyAuth|SessionAuth|EndUserAuth|ApiKeyOrEndUserAuth)\([^)]*\)\s*(\n\s*@\w+\([^)]*\))*\s*\nexport class/.test(text) ||
        /@(Public|MemberAuth|ApiKeyAuth|SessionAuth|EndUserAuth|ApiKeyOrEndUserAuth)\([^)]*\)\n(@[^\n]+\n)*export class/.test(text);
      if (classLevel) continue;
      const routes = text.match(/@(Get|Post|Put|Patch|Delete)\([^)]*\)(\n\s*@[^\n]+)*/g) ?? [];
      for (const route of routes) {
        if (!/@(Public|MemberAuth|ApiKeyAuth|SessionAuth|EndUserAuth|ApiKeyOrEndUserAuth)\(/.test(route)) offenders.push(`${relative(SRC, path)}: ${route.split('\n')[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
