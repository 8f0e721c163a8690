import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { isUniqueViolation } from '../common/errors/postgres-errors';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { LlmProvider, LlmProviderKind } from './llm-provider.entity';

export interface LlmProviderInput {
  key: string;
  kind: string;
  name: string;
  baseUrl?: string | null;
  apiKey?: string | null;
  defaultModel?: string | null;
}

export type LlmProviderPatch = Partial<Omit<LlmProviderInput, 'key'>>;

/** A stored provider as the API shows it: whether a key is stored, never the key (nor its ciphertext). */
export type StoredLlmProvider = Omit<LlmProvider, 'apiKey'> & { hasApiKey: boolean };

const MAX_PROVIDERS_PER_TENANT = 50;

const invalid = (path: string, message: string) => new AppError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });

const stored = (row: LlmProvider): StoredLlmProvider => {
  const { apiKey, ...rest } = row;
  return { ...rest, hasApiKey: apiKey != null };
};

/** The admin side of a tenant's LLM providers: checked, stored per tenant with the key in the vault, audited. */
@Injectable()
export class LlmProvidersService {
  constructor(
    @InjectTenantScoped(LlmProvider) private readonly providers: TenantScopedRepository<LlmProvider>,
    @InjectDataSource() private readonly db: DataSource,
    @InjectVault() private readonly vault: Vault,
    private readonly audit: AuditService,
    private readonly guard: OutboundGuard,
  ) {}

  async list(tenantId: TenantId): Promise<StoredLlmProvider[]> {
    const rows = await this.providers.query(tenantId, 'p').addSelect('p.apiKey').orderBy('p.key', 'ASC').getMany();
    return rows.map(stored);
  }

  async get(tenantId: TenantId, key: string): Promise<StoredLlmProvider> {
    const row = await this.providers.query(tenantId, 'p').addSelect('p.apiKey').andWhere('p.key = :key', { key }).getOne();
    if (!row) throw new AppError('not_found', `LLM provider ${key} was not found`);
    return stored(row);
  }

  async create(actor: Actor, input: LlmProviderInput): Promise<StoredLlmProvider> {
    const baseUrl = input.baseUrl == null ? null : this.checkBaseUrl(input.baseUrl);
    this.checkComplete(input.kind as LlmProviderKind, baseUrl, input.apiKey != null);
    const id = randomUUID();
    await this.db.transaction(async (manager) => {
      const repo = this.providers.with(manager);
      // Serialise creates per tenant so the cap holds under concurrency.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('llm_providers:' || $1))`, [actor.tenantId]);
      if ((await repo.count(actor.tenantId)) >= MAX_PROVIDERS_PER_TENANT) {
        throw new AppError('conflict', `A tenant can have at most ${MAX_PROVIDERS_PER_TENANT} LLM providers; delete one first`);
      }
      try {
        await repo.insert(actor.tenantId, {
          id,
          key: input.key,
          kind: input.kind as LlmProviderKind,
          name: input.name,
          baseUrl,
          apiKey: input.apiKey == null ? null : this.vault.encrypt(input.apiKey, bindingFor('llmProviderApiKey', { tenantId: actor.tenantId, id })),
          defaultModel: input.defaultModel ?? null,
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new AppError('provider_key_taken', `key: "${input.key}" is taken by another of your LLM providers; choose another key`, {
            errors: [{ path: 'key', message: 'is taken by another of your LLM providers' }],
          });
        }
        throw error;
      }
      // Never the key itself: whether one is stored is all the log says.
      await this.audit.record(
        actor,
        'llm_provider.created',
        { type: 'llm_provider', id },
        { key: input.key, kind: input.kind, name: input.name, baseUrl, defaultModel: input.defaultModel ?? null, hasApiKey: input.apiKey != null },
        manager,
      );
    });
    return this.get(actor.tenantId, input.key);
  }

  /** Changes what is given; the key stays (flows name the provider by it). A null apiKey removes the stored one. */
  async update(actor: Actor, key: string, patch: LlmProviderPatch): Promise<StoredLlmProvider> {
    await this.db.transaction(async (manager) => {
      const repo = this.providers.with(manager);
      const current = await repo.query(actor.tenantId, 'p').addSelect('p.apiKey').andWhere('p.key = :key', { key }).setLock('pessimistic_write').getOne();
      if (!current) throw new AppError('not_found', `LLM provider ${key} was not found`);
      const changes: Partial<LlmProvider> = {};
      if (patch.kind !== undefined && patch.kind !== current.kind) changes.kind = patch.kind as LlmProviderKind;
      if (patch.name !== undefined && patch.name !== current.name) changes.name = patch.name;
      if (patch.baseUrl !== undefined) {
        const baseUrl = patch.baseUrl === null ? null : this.checkBaseUrl(patch.baseUrl);
        if (baseUrl !== current.baseUrl) changes.baseUrl = baseUrl;
      }
      if (patch.defaultModel !== undefined && patch.defaultModel !== current.defaultModel) changes.defaultModel = patch.defaultModel;
      if (patch.apiKey !== undefined) {
        if (patch.apiKey !== null) changes.apiKey = this.vault.encrypt(patch.apiKey, bindingFor('llmProviderApiKey', current));
        else if (current.apiKey !== null) changes.apiKey = null;
      }
      const next = { ...current, ...changes };
      this.checkComplete(next.kind, next.baseUrl, next.apiKey != null);
      if (Object.keys(changes).length === 0) return;
      await repo.update(actor.tenantId, { id: current.id }, changes);
      // Field names and public values only: the key's value never reaches the audit log.
      await this.audit.record(
        actor,
        'llm_provider.updated',
        { type: 'llm_provider', id: current.id },
        { key, fields: Object.keys(changes), kind: next.kind, baseUrl: next.baseUrl, defaultModel: next.defaultModel, hasApiKey: next.apiKey != null },
        manager,
      );
    });
    return this.get(actor.tenantId, key);
  }

  async remove(actor: Actor, key: string): Promise<void> {
    await this.db.transaction(async (manager) => {
      const repo = this.providers.with(manager);
      const current = await repo.query(actor.tenantId, 'p').andWhere('p.key = :key', { key }).setLock('pessimistic_write').getOne();
      if (!current) throw new AppError('not_found', `LLM provider ${key} was not found`);
      await repo.delete(actor.tenantId, { id: current.id });
      await this.audit.record(actor, 'llm_provider.deleted', { type: 'llm_provider', id: current.id }, { key, kind: current.kind, name: current.name }, manager);
    });
  }

  /**
   * An absolute http(s) URL without credentials, query or fragment: https, or http for an IP
   * address OUTBOUND_ALLOWLIST permits (a local vLLM/Ollama, the sandbox). Private IP literals are
   * refused here; names are checked on the address actually connected to, at every call.
   */
  private checkBaseUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid('baseUrl', 'must be an absolute URL, e.g. https://llm.example.com/v1');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.guard.permitsPlainHttp(raw))) {
      throw invalid('baseUrl', url.protocol === 'http:' ? 'must be https (http only for an IP address OUTBOUND_ALLOWLIST permits)' : 'must be an https URL');
    }
    if (url.username || url.password) throw invalid('baseUrl', 'must not contain credentials (put the key in apiKey)');
    if (url.search || url.hash) throw invalid('baseUrl', 'must not have a query or fragment');
    try {
      this.guard.assertUrl(url);
    } catch (error) {
      throw invalid('baseUrl', (error as Error).message);
    }
    return url.toString().replace(/\/+$/, '');
  }

  /** What each kind needs before it can be called. */
  private checkComplete(kind: LlmProviderKind, baseUrl: string | null, hasApiKey: boolean): void {
    if (kind === 'openai-compatible' && !baseUrl) throw invalid('baseUrl', "is required for an openai-compatible provider (the server's URL, e.g. https://llm.example.com/v1)");
    if (kind !== 'openai-compatible' && !hasApiKey) throw invalid('apiKey', `is required for an ${kind} provider`);
  }
}
