import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const LLM_PROVIDER_KINDS = ['openai', 'anthropic', 'openai-compatible'] as const;
export type LlmProviderKind = (typeof LLM_PROVIDER_KINDS)[number];

/** A tenant's credentials for one LLM provider, under a key flows' agent steps name. */
@Entity('llm_providers')
export class LlmProvider {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  /** Kebab-case, unique per tenant; what flows reference. Cannot change. */
  @Column('text') key: string;
  @Column('text') kind: LlmProviderKind;
  @Column('text') name: string;
  /** Required for openai-compatible; an override (a proxy, a regional endpoint) for the others. */
  @Column('text', { name: 'base_url', nullable: true }) baseUrl: string | null;
  /** Vault envelope (VAULT_FIELDS.llmProviderApiKey); never returned by the API. */
  @Column('text', { name: 'api_key', nullable: true, select: false }) apiKey: string | null;
  @Column('text', { name: 'default_model', nullable: true }) defaultModel: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
