import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ApprovalMode = 'pending' | 'wait';

/** Which of a connector's actions are MCP tools, and which of those need the end user's approval. */
export interface ConnectorExposure {
  exposed: string[];
  requireApproval: string[];
}

/** A tenant's MCP server settings. No row (or no connector in it): no tool is exposed. */
@Entity('mcp_settings')
export class McpSettings {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  /** 'pending': a gated call answers at once with the approval id; 'wait': it waits up to approvalWaitSeconds for the decision. */
  @Column('text', { name: 'approval_mode' }) approvalMode: ApprovalMode;
  @Column('integer', { name: 'approval_wait_seconds' }) approvalWaitSeconds: number;
  /** By connector key. */
  @Column('jsonb') connectors: Record<string, ConnectorExposure>;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export const MCP_DEFAULTS = { approvalMode: 'pending' as ApprovalMode, approvalWaitSeconds: 50 };
