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
