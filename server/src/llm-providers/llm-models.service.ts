import { Injectable } from '@nestjs/common';
import type { LanguageModel } from 'ai';
import { AppError } from '../common/errors/app-error';
import { createGuardedFetch } from '../common/net/guarded-fetch';
import { OutboundGuard } from '../common/net/outbound-guard';
import { TenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Vault } from '../vault/vault';
import { bindingFor } from '../vault/vault-fields';
import { InjectVault } from '../vault/vault.module';
import { LlmProvider, LlmProviderKind } from './llm-provider.entity';

export interface ResolvedModel {
  model: LanguageModel;
  provider: { key: string; kind: LlmProviderKind };
  /** The model name used: the one asked for, else the provider's default. */
  modelName: string;
}

type ModelFactory = (modelName: string) => LanguageModel;

interface CacheEntry {
  version: number;
  expires: number;
  factory: ModelFactory;
}

/** How long a built provider (with its decrypted key) is reused while its row is unchanged. */
export const LLM_PROVIDER_CACHE_MS = 60_000;
const CACHE_MAX_ENTRIES = 500;
/**
 * Where openai and anthropic providers without a base URL go. Passed explicitly: the provider
 * packages would otherwise read OPENAI_BASE_URL / ANTHROPIC_BASE_URL from the deployment's environment.
 */
export const DEFAULT_BASE_URLS = { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1' } as const;
/** A model's answer is text and tool calls; anything near this is not an answer. */
const MAX_MODEL_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The tenant's LLM providers as ai-SDK language models. Every call they make goes through the
 * private-network guard (the guarded fetch), whatever the base URL resolves to at the time.
 */
@Injectable()
export class LlmModels {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly fetch: typeof globalThis.fetch;

  constructor(
    @InjectTenantScoped(LlmProvider) private readonly providers: TenantScopedRepository<LlmProvider>,
    @InjectVault() private readonly vault: Vault,
    guard: OutboundGuard,
  ) {
    this.fetch = createGuardedFetch(guard, MAX_MODEL_RESPONSE_BYTES) as typeof globalThis.fetch;
  }

  /** The tenant's provider `providerKey` as an ai-SDK LanguageModel for `modelName` (default: the provider's defaultModel). */
  async model(tenantId: TenantId, providerKey: string, modelName?: string): Promise<ResolvedModel> {
    // One small read per call: a changed or deleted provider takes effect at once; only decrypting is cached.
    const row = await this.providers.query(tenantId, 'p').andWhere('p.key = :key', { key: providerKey }).getOne();
    if (!row)
      throw new AppError('llm_provider_not_found', `LLM provider ${providerKey} was not found (add it under AI models in the portal, or POST /v1/admin/llm-providers)`, {
        provider: providerKey,
      });
    const name = modelName?.trim() || row.defaultModel;
    if (!name) {
      throw new AppError('llm_model_missing', `LLM provider ${providerKey} has no default model and the step names none; set the step's model or the provider's defaultModel`, {
        provider: providerKey,
      });
    }
    return { model: (await this.factory(tenantId, row))(name), provider: { key: row.key, kind: row.kind }, modelName: name };
  }

  private async factory(tenantId: TenantId, row: LlmProvider): Promise<ModelFactory> {
    const cacheKey = `${tenantId}:${row.key}`;
    const version = row.updatedAt.getTime();
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    if (hit && hit.version === version && hit.expires > now) return hit.factory;
    const [{ apiKey: envelope } = { apiKey: null }] = await this.providers
      .query(tenantId, 'p')
      .select('p.apiKey', 'apiKey')
      .andWhere('p.id = :id', { id: row.id })
      .getRawMany<{ apiKey: string | null }>();
    const apiKey = envelope ? this.vault.decrypt(envelope, bindingFor('llmProviderApiKey', row)) : undefined;
    const factory = this.build(row, apiKey);
    this.cache.delete(cacheKey);
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(cacheKey, { version, expires: now + LLM_PROVIDER_CACHE_MS, factory });
    return factory;
  }

  /**
   * The provider's client. The key is always passed (empty when none is stored): the provider
   * packages would otherwise fall back to OPENAI_API_KEY / ANTHROPIC_API_KEY in the deployment's
   * environment, and a tenant must never call a model on the operator's key.
   */
  // The provider packages are required on the first model call (an API process never makes one).
  private build(row: LlmProvider, apiKey: string | undefined): ModelFactory {
    const fetch = this.fetch;
    switch (row.kind) {
      case 'openai': {
        const { createOpenAI } = require('@ai-sdk/openai') as typeof import('@ai-sdk/openai');
        // Chat completions (not the Responses API): what OpenAI-compatible proxies in front of OpenAI speak too.
        const provider = createOpenAI({ apiKey: apiKey ?? '', baseURL: row.baseUrl ?? DEFAULT_BASE_URLS.openai, fetch });
        return (name) => provider.chat(name);
      }
      case 'anthropic': {
        const { createAnthropic } = require('@ai-sdk/anthropic') as typeof import('@ai-sdk/anthropic');
        const provider = createAnthropic({ apiKey: apiKey ?? '', baseURL: row.baseUrl ?? DEFAULT_BASE_URLS.anthropic, fetch });
        return (name) => provider(name);
      }
      case 'openai-compatible': {
        const { createOpenAICompatible } = require('@ai-sdk/openai-compatible') as typeof import('@ai-sdk/openai-compatible');
        const provider = createOpenAICompatible({ name: row.key, baseURL: row.baseUrl!, apiKey, fetch });
        return (name) => provider.chatModel(name);
      }
      default:
        throw new AppError('internal_error', `LLM provider ${row.key} has an unknown kind ${String(row.kind)}`);
    }
  }
}
