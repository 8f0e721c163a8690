import type { ImportedOperation, ListSpec } from '@switchboard/connectors';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An OpenAPI document a tenant attached to a connector, with its operations normalised into actions. */
@Entity('connector_openapi_imports')
export class OpenApiImport {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text', { name: 'connector_key' }) connectorKey: string;
  /** Where it was fetched from; null for an upload. */
  @Column('text', { name: 'source_url', nullable: true }) sourceUrl: string | null;
  /** The document as given (JSON or YAML text), kept so it can be normalised again; not loaded by default. */
  @Column('text', { select: false }) document: string;
  @Column('integer', { name: 'document_bytes' }) documentBytes: number;
  @Column('text', { name: 'openapi_version' }) openapiVersion: string;
  @Column('text') title: string;
  @Column('text') version: string;
  @Column('text', { array: true }) servers: string[];
  @Column('jsonb') operations: ImportedOperation[];
  @Column('jsonb') warnings: string[];
  /** The admin's choice of option sources by action key, over what was detected (null: none). */
  @Column('jsonb', { name: 'option_sources' }) optionSources: Record<string, ListSpec | null>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
