import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { getConnector, importOpenApi, ImportedDocument, ListSpec, OPENAPI_LIMITS, OpenApiImportError } from '@switchboard/connectors';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError, notFound } from '../common/errors/app-error';
import { guardedRequest } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { CustomProvider } from '../custom-providers/custom-provider.entity';
import { ConnectorRegistry } from './connector-registry.service';
import { OpenApiImport } from './openapi-import.entity';
import { ConnectionCache } from '../connections/connection-cache';

/** How long fetching a document by URL may take, redirects included. */
export const OPENAPI_FETCH_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 3;

export type OpenApiSource = { url: string } | { document: string | Record<string, unknown> };

/**
 * A tenant's OpenAPI documents, one per connector key: imported (validated, dereferenced and
 * normalised once, see importOpenApi), summarised, given option-source overrides, removed. The
 * ConnectorRegistry turns the stored operations into actions.
 */
@Injectable()
export class OpenApiImportsService {
  constructor(
    @InjectTenantScoped(OpenApiImport) private readonly imports: TenantScopedRepository<OpenApiImport>,
    @InjectTenantScoped(CustomProvider) private readonly customProviders: TenantScopedRepository<CustomProvider>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly registry: ConnectorRegistry,
    private readonly guard: OutboundGuard,
    private readonly audit: AuditService,
    private readonly cache: ConnectionCache,
  ) {}

  async get(tenantId: TenantId, key: string): Promise<OpenApiImport> {
    await this.registry.definition(tenantId, key);
    const found = await this.imports.findOne(tenantId, { connectorKey: key });
    if (!found) throw notFound(`OpenAPI document of connector ${key}`);
    return found;
  }

  /** Imports a document for the connector, replacing any earlier one (its option-source overrides still apply where the keys remain). */
  async put(actor: Actor, key: string, source: OpenApiSource): Promise<OpenApiImport> {
    const definition = await this.registry.definition(actor.tenantId, key);
    const own = await this.imports.findOne(actor.tenantId, { connectorKey: key });
    // The connector's own actions and option sources (not ones imported before) keep their keys.
    const importedKeys = new Set(own?.operations.map((o) => o.key) ?? []);
    const reserved = [...Object.keys(definition.actions), ...Object.keys(definition.options ?? {})].filter((k) => !importedKeys.has(k));
    const text = 'url' in source ? await this.fetchDocument(source.url) : typeof source.document === 'string' ? source.document : JSON.stringify(source.document);
    let imported: ImportedDocument;
    try {
      imported = await importOpenApi(text, OPENAPI_LIMITS, reserved);
    } catch (error) {
      throw error instanceof OpenApiImportError ? this.refusal(error) : error;
    }
    const sourceUrl = 'url' in source ? source.url : null;
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        // A tenant's own provider may be being deleted (which removes its document): wait for that, and
        // keep it from being deleted until this import is in, so no document outlives its provider.
        if (!getConnector(key)) {
          const kept = await this.customProviders.with(manager).query(actor.tenantId, 'p').andWhere('p.key = :key', { key }).setLock('pessimistic_read').getOne();
          if (!kept) throw notFound('Connector', key);
        }
        const repo = this.imports.with(manager);
        const values = {
          sourceUrl,
          document: text,
          documentBytes: Buffer.byteLength(text, 'utf8'),
          openapiVersion: imported.openapi,
          title: imported.title,
          version: imported.version,
          servers: imported.servers,
          operations: imported.operations,
          warnings: imported.warnings,
        };
        const current = await repo.query(actor.tenantId, 'i').andWhere('i.connectorKey = :key', { key }).setLock('pessimistic_write').getOne();
        if (current) {
          const keys = new Set(imported.operations.map((o) => o.key));
          const optionSources = Object.fromEntries(Object.entries(current.optionSources).filter(([k]) => keys.has(k)));
          await repo.update(actor.tenantId, { id: current.id }, { ...values, optionSources });
        } else {
          await repo.insert(actor.tenantId, { connectorKey: key, ...values, optionSources: {} });
        }
        await this.audit.record(
          actor,
          'connector_openapi.imported',
          { type: 'connector', id: key },
          {
            title: imported.title,
            version: imported.version,
            operations: imported.operations.length,
            source: sourceUrl ? 'url' : 'upload',
            ...(sourceUrl ? { url: sourceUrl } : {}),
            replaced: Boolean(current),
          },
          manager,
        );
        return repo.get(actor.tenantId, { connectorKey: key });
      }),
    );
  }

  /** Sets which listing operations serve as option sources and how (`null`: not one), by action key. */
  async setOptionSources(actor: Actor, key: string, changes: Record<string, unknown>): Promise<OpenApiImport> {
    await this.registry.definition(actor.tenantId, key);
    return this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const repo = this.imports.with(manager);
        const current = await repo.query(actor.tenantId, 'i').andWhere('i.connectorKey = :key', { key }).setLock('pessimistic_write').getOne();
        if (!current) throw notFound(`OpenAPI document of connector ${key}`);
        const errors: { path: string; message: string }[] = [];
        const next = { ...current.optionSources };
        for (const [actionKey, spec] of Object.entries(changes)) {
          const path = `optionSources.${actionKey}`;
          const operation = current.operations.find((o) => o.key === actionKey);
          if (!operation) errors.push({ path, message: `no imported action ${actionKey}; there are ${current.operations.map((o) => o.key).join(', ') || 'none'}` });
          else if (operation.method !== 'GET') errors.push({ path, message: `${operation.method} ${operation.path} is not a GET; only reads can list options` });
          else if (operation.parameters.some((p) => p.required))
            errors.push({
              path,
              message: `${operation.method} ${operation.path} needs input (${operation.parameters
                .filter((p) => p.required)
                .map((p) => p.name)
                .join(', ')}); an option source cannot give it`,
            });
          else if (spec === null) next[actionKey] = null;
          else {
            const problems = listSpecProblems(
              spec,
              operation.parameters.filter((p) => p.in === 'query').map((p) => p.name),
            );
            errors.push(...problems.map((p) => ({ path: `${path}.${p.path}`, message: p.message })));
            if (problems.length === 0) next[actionKey] = spec as ListSpec;
          }
        }
        if (errors.length > 0) throw new AppError('validation_failed', `${errors[0].path}: ${errors[0].message}`, { errors });
        await repo.update(actor.tenantId, { id: current.id }, { optionSources: next });
        await this.audit.record(actor, 'connector_openapi.option_sources_updated', { type: 'connector', id: key }, { actions: Object.keys(changes) }, manager);
        return repo.get(actor.tenantId, { id: current.id });
      }),
    );
  }

  async remove(actor: Actor, key: string): Promise<void> {
    await this.registry.definition(actor.tenantId, key);
    await this.cache.changing(actor.tenantId, () =>
      this.db.transaction(async (manager) => {
        const deleted = await this.imports.with(manager).delete(actor.tenantId, { connectorKey: key });
        if (deleted === 0) throw notFound(`OpenAPI document of connector ${key}`);
        await this.audit.record(actor, 'connector_openapi.deleted', { type: 'connector', id: key }, {}, manager);
      }),
    );
  }

  private refusal(error: OpenApiImportError): AppError {
    const details = { problem: error.problem, ...(error.pointer ? { pointer: error.pointer } : {}) };
    return new AppError(error.problem === 'too_large' ? 'payload_too_large' : 'validation_failed', error.message, details);
  }

  /** GET through the outbound guard (private destinations refused at connect time), size-capped, redirects re-checked. */
  private async fetchDocument(url: string): Promise<string> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new AppError('validation_failed', `url: ${JSON.stringify(url.slice(0, 200))} is not a URL`, { errors: [{ path: 'url', message: 'must be an http(s) URL' }] });
    }
    const signal = AbortSignal.timeout(OPENAPI_FETCH_TIMEOUT_MS);
    const limit = OPENAPI_LIMITS.maxDocumentBytes;
    try {
      for (let hop = 0; ; hop++) {
        const res = await guardedRequest(this.guard, target, { headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' }, signal, maxResponseBytes: limit });
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (hop >= MAX_REDIRECTS) throw new AppError('validation_failed', `${url} redirected more than ${MAX_REDIRECTS} times`);
          target = new URL(res.headers.location, target);
          continue;
        }
        if (status < 200 || status >= 300) {
          res.resume();
          throw new AppError('validation_failed', `Fetching ${target.href} answered HTTP ${status}`, { errors: [{ path: 'url', message: `answered HTTP ${status}` }] });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res) {
          size += (chunk as Buffer).length;
          if (size > limit) {
            res.destroy();
            throw new AppError('payload_too_large', `The document at ${target.href} is over the ${limit}-byte limit`, { problem: 'too_large' });
          }
          chunks.push(chunk as Buffer);
        }
        return Buffer.concat(chunks).toString('utf8');
      }
    } catch (error) {
      if (error instanceof AppError) {
        // The guarded request reports a too-large declared length with the provider's wording.
        if (error.code === 'payload_too_large') throw new AppError('payload_too_large', `The document at ${target.href} is over the ${limit}-byte limit`, { problem: 'too_large' });
        throw error;
      }
      const reason = signal.aborted ? `did not answer within ${OPENAPI_FETCH_TIMEOUT_MS / 1000} s` : (error as Error).message;
      throw new AppError('validation_failed', `Could not fetch ${target.href}: ${reason}`, { errors: [{ path: 'url', message: reason }] });
    }
  }
}

/** Problems with an admin's ListSpec: dot paths (letters, digits, `_`, `-`, `.`), and a search parameter the operation has. */
function listSpecProblems(spec: unknown, queryParams: string[]): { path: string; message: string }[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return [{ path: '', message: 'must be { itemsPath, valuePath, labelPath, searchParam? } or null' }];
  const problems: { path: string; message: string }[] = [];
  const given = spec as Record<string, unknown>;
  for (const field of Object.keys(given))
    if (!['itemsPath', 'valuePath', 'labelPath', 'searchParam'].includes(field)) problems.push({ path: field, message: 'is not a field of an option source' });
  for (const field of ['itemsPath', 'valuePath', 'labelPath']) {
    const value = given[field];
    if (typeof value !== 'string' || value.length > 200 || !/^([A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*)?$/.test(value)) {
      problems.push({ path: field, message: "must be a dot path such as data or owner.name ('' for the whole item or response)" });
    }
  }
  if (given.searchParam !== undefined && (typeof given.searchParam !== 'string' || !queryParams.includes(given.searchParam))) {
    problems.push({ path: 'searchParam', message: `must be one of the operation's query parameters (${queryParams.join(', ') || 'it has none'})` });
  }
  return problems;
}
