import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CatalogueEntry, catalogueEntryProblems, getConnector, hasNestedQuantifier } from '@switchboard/connectors';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { isUniqueViolation } from '../common/errors/postgres-errors';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { tenantSql } from '../common/tenancy/tenant-sql';
import { Connection } from '../connections/connection.entity';
import { ConnectorConfig } from '../connector-configs/connector-config.entity';
import { OpenApiImport } from '../connector-configs/openapi-import.entity';
import { CustomProvider } from './custom-provider.entity';
import { ConnectionCache } from '../connections/connection-cache';

export interface CustomProviderInput {
  key: string;
  definition: Record<string, unknown>;
}

/** Problems are JSON Pointers into the entry; the API reports them under `definition` (as flow definitions do). */
const inBody = (pointer: string) => `definition${pointer.replace(/\//g, '.')}`;

/** A definition is a page of settings; anything near the body limit is a mistake or an attack. */
const MAX_DEFINITION_BYTES = 64 * 1024;

const keyTaken = (key: string, by: string) =>
  new AppError('provider_key_taken', `key: "${key}" is taken by ${by}; choose another key`, { errors: [{ path: 'key', message: `is taken by ${by}` }] });

/** A tenant's own providers: checked like catalogue entries, stored per tenant, audited. */
@Injectable()
export class CustomProvidersService {
  constructor(
    @InjectTenantScoped(CustomProvider) private readonly providers: TenantScopedRepository<CustomProvider>,
    @InjectTenantScoped(Connection) private readonly connections: TenantScopedRepository<Connection>,
    @InjectTenantScoped(ConnectorConfig) private readonly configs: TenantScopedRepository<ConnectorConfig>,
    @InjectTenantScoped(OpenApiImport) private readonly openApiImports: TenantScopedRepository<OpenApiImport>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly guard: OutboundGuard,
    private readonly cache: ConnectionCache,
  ) {}

  list(tenantId: TenantId): Promise<CustomProvider[]> {
    return this.providers.find(tenantId, { order: { key: 'ASC' } });
  }

  get(tenantId: TenantId, id: string): Promise<CustomProvider> {
    return this.providers.get(tenantId, { id }, id);
  }

  async create(actor: Actor, input: CustomProviderInput): Promise<CustomProvider> {
    const definition = this.check(input);
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const repo = this.providers.with(manager);
        let created: CustomProvider;
        try {
          created = await repo.insert(actor.tenantId, { key: input.key, definition });
        } catch (error) {
          if (isUniqueViolation(error)) throw keyTaken(input.key, 'another of your providers');
          throw error;
        }
        await this.audit.record(actor, 'custom_provider.created', { type: 'custom_provider', id: created.id }, { key: input.key, name: definition.name }, manager);
        return created;
      }),
    );
  }

  /** Replaces the definition. The key stays: connections, configs and flows name the provider by it. */
  async replace(actor: Actor, id: string, input: CustomProviderInput): Promise<CustomProvider> {
    const current = await this.get(actor.tenantId, id);
    if (input.key !== current.key) {
      throw new AppError('validation_failed', `key: cannot change ("${current.key}"); create a new provider under the new key`, {
        errors: [{ path: 'key', message: `cannot change (it is "${current.key}")` }],
      });
    }
    const definition = this.check(input);
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        // Existing connections hold credentials of the old kind: the auth type stays while they exist.
        const inUse = await this.connections.with(manager).count(actor.tenantId, { connectorKey: current.key });
        if (inUse > 0 && definition.auth.type !== current.definition.auth.type) {
          throw new AppError(
            'provider_in_use',
            `definition.auth.type: ${current.definition.name} has ${inUse} connection${inUse === 1 ? '' : 's'} using ${current.definition.auth.type}; delete them before changing how it authenticates`,
            {
              connections: inUse,
              errors: [{ path: 'definition.auth.type', message: `cannot change while connections use ${current.definition.auth.type}` }],
            },
          );
        }
        await this.providers.with(manager).update(actor.tenantId, { id }, { definition });
        await this.audit.record(actor, 'custom_provider.replaced', { type: 'custom_provider', id }, { key: current.key, name: definition.name }, manager);
        return this.providers.with(manager).get(actor.tenantId, { id }, id);
      }),
    );
  }

  /**
   * Deletes a provider nothing uses any more, with the tenant's settings and OpenAPI document for it
   * (left behind, they would come back on a new provider created under the same key).
   */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const repo = this.providers.with(manager);
        const current = await repo.query(actor.tenantId, 'p').andWhere('p.id = :id', { id }).setLock('pessimistic_write').getOne();
        if (!current) throw new AppError('not_found', `Custom provider ${id} was not found`);
        const inUse = await this.connections.with(manager).count(actor.tenantId, { connectorKey: current.key });
        // Switched-on flow instances whose version lists the provider (switched-off ones may stay: they start nothing).
        const [{ instances }]: Array<{ instances: number }> = await tenantSql(manager).query(
          actor.tenantId,
          `SELECT count(*)::int AS instances FROM flow_instances i JOIN flow_template_versions v ON v.id = i.version_id
          WHERE i.tenant_id = $1 AND i.enabled AND (v.definition->'connectors')::jsonb ? $2::text`,
          [current.key],
        );
        if (inUse > 0 || instances > 0) {
          const what = [inUse > 0 ? `${inUse} connection${inUse === 1 ? '' : 's'}` : '', instances > 0 ? `${instances} switched-on flow instance${instances === 1 ? '' : 's'}` : '']
            .filter(Boolean)
            .join(' and ');
          throw new AppError('provider_in_use', `${current.definition.name} is used by ${what}; remove them first`, { connections: inUse, instances });
        }
        await this.configs.with(manager).delete(actor.tenantId, { connectorKey: current.key });
        const openApiDocuments = await this.openApiImports.with(manager).delete(actor.tenantId, { connectorKey: current.key });
        await repo.delete(actor.tenantId, { id });
        await this.audit.record(
          actor,
          'custom_provider.deleted',
          { type: 'custom_provider', id },
          { key: current.key, name: current.definition.name, openApiDocumentRemoved: openApiDocuments > 0 },
          manager,
        );
      }),
    );
  }

  /** The entry, checked by the catalogue's rules plus what a tenant-given entry must also obey. */
  private check(input: CustomProviderInput): CatalogueEntry {
    const shared = getConnector(input.key);
    if (shared) throw keyTaken(input.key, `the shared connector ${shared.name}`);
    if (Buffer.byteLength(JSON.stringify(input.definition)) > MAX_DEFINITION_BYTES) {
      throw new AppError('validation_failed', `definition: larger than ${MAX_DEFINITION_BYTES / 1024} KB`, {
        errors: [{ path: 'definition', message: `must be at most ${MAX_DEFINITION_BYTES / 1024} KB` }],
      });
    }
    const problems = catalogueEntryProblems(input.definition, { allowHttp: (url) => this.guard.permitsPlainHttp(url) });
    const fields = input.definition.connectionConfig;
    if (fields && typeof fields === 'object') {
      for (const [name, field] of Object.entries(fields as Record<string, { pattern?: unknown }>)) {
        if (typeof field?.pattern === 'string' && (field.pattern.length > 200 || hasNestedQuantifier(field.pattern))) {
          problems.push({
            path: `/connectionConfig/${name}/pattern`,
            message: 'must be at most 200 characters without a repeated group that itself repeats or alternates (such as (a+)+ or (a|b)*)',
          });
        }
      }
    }
    // An SVG from a tenant is shown in other people's browsers (portal, widget): only generated monograms.
    if (typeof input.definition.logo === 'string') {
      for (let i = problems.length - 1; i >= 0; i--) if (problems[i]!.path === '/logo') problems.splice(i, 1);
      problems.push({ path: '/logo', message: 'must be a monogram { color: "#rrggbb", text?: up to 3 letters }; inline SVG is not accepted for custom providers' });
    }
    if (problems.length > 0) {
      throw new AppError('validation_failed', `The provider definition is invalid: ${problems.map((p) => `${inBody(p.path)}: ${p.message}`).join('; ')}`, {
        errors: problems.map((p) => ({ path: inBody(p.path), message: p.message })),
      });
    }
    return input.definition as unknown as CatalogueEntry;
  }
}
