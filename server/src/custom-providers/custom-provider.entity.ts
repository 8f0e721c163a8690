import type { CatalogueEntry } from '@switchboard/connectors';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A provider a tenant defined for itself: a catalogue entry (checked by the catalogue's schema) under its own key. */
@Entity('custom_providers')
export class CustomProvider {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  /** The connector key (kebab-case); no shared connector has it. */
  @Column('text') key: string;
  @Column('jsonb') definition: CatalogueEntry;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
