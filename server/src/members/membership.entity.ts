import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { User } from './user.entity';

export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Higher rank may do everything a lower rank may. */
export const ROLE_RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

@Entity('memberships')
export class Membership {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @ManyToOne(() => User, { eager: true }) @JoinColumn({ name: 'user_id' }) user: User;
  @Column('text') role: Role;
  @Column('text') status: 'active' | 'invited';
  @Column('text', { name: 'invite_token_hash', nullable: true, select: false }) inviteTokenHash: string | null;
  @Column('timestamptz', { name: 'invite_expires_at', nullable: true }) inviteExpiresAt: Date | null;
  @Column('uuid', { name: 'invited_by_user_id', nullable: true }) invitedByUserId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
