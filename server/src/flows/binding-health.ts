import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { tenantSql } from '../common/tenancy/tenant-sql';
import type { Connection } from '../connections/connection.entity';
import { bindingConnector } from './definition/flow-definition.schema';

/**
 * Why an enabled flow instance cannot run: a connection it is bound to was disconnected
 * (`connection_missing`) or is no longer usable. Such an instance is "paused": it stays enabled
 * (the end user's choice), triggers skip it, and it runs again once the account is reconnected.
 */
export type PausedReason = 'connection_missing' | 'connection_needs_reauth' | 'connection_revoked' | 'connection_error';

export interface BindingProblem {
  /** The binding (`slack`, or a named one such as `slack:alerts`). */
  binding: string;
  connector: string;
  connectionId: string;
  reason: PausedReason;
}

/** What the system tells the end user about their instance (a rebind, a rollout that needs more from them), until they next change it. */
export type InstanceNote =
  { code: 'connection_rebound'; message: string; at: string; binding: string; from: string; to: string } | { code: 'needs_settings'; message: string; at: string; version: number };

/** The instance's bindings that do not point at an active connection of its end user. */
export function bindingProblems(bindings: Record<string, string>, connections: Array<Pick<Connection, 'id' | 'status' | 'endUserId'>>, endUserId: string): BindingProblem[] {
  const problems: BindingProblem[] = [];
  for (const [binding, connectionId] of Object.entries(bindings)) {
    const connection = connections.find((c) => c.id === connectionId && c.endUserId === endUserId);
    const reason: PausedReason | null = !connection ? 'connection_missing' : connection.status === 'active' ? null : (`connection_${connection.status}` as PausedReason);
    if (reason) problems.push({ binding, connector: bindingConnector(binding), connectionId, reason });
  }
  return problems;
}

/**
 * SQL condition: the flow instance `alias` can run, i.e. every binding points at an active
 * connection of its own end user. Every trigger (events, requests, schedules, webhooks) uses it.
 */
export const bindingsHealthySql = (alias: string) =>
  `NOT EXISTS (SELECT 1 FROM jsonb_each_text(${alias}.connections) b
     LEFT JOIN connections c ON c.tenant_id = ${alias}.tenant_id AND c.end_user_id = ${alias}.end_user_id AND c.id = b.value::uuid AND c.status = 'active'
    WHERE c.id IS NULL)`;

/**
 * After `connection` became active (connected or reconnected), rebinds the end user's flow
 * instances whose binding for its connector points at a connection that is gone or unusable, so a
 * flow paused by a disconnect resumes by itself. Each rebind is audited and leaves a note on the
 * instance. Runs in the caller's transaction.
 */
export async function rebindToConnection(
  manager: EntityManager,
  audit: AuditService,
  actor: Actor,
  connection: Pick<Connection, 'id' | 'tenantId' | 'endUserId' | 'connectorKey' | 'accountName'>,
  connectorName: string,
): Promise<number> {
  // The connection was read or made in the actor's tenant, so its tenant is trusted.
  const tenantId = trustedTenantId(connection.tenantId);
  const instances: Array<{ id: string; connections: Record<string, string>; key: string }> = await tenantSql(manager).query(
    tenantId,
    `SELECT i.id, i.connections, t.key FROM flow_instances i JOIN flow_templates t ON t.id = i.template_id
      WHERE i.tenant_id = $1 AND i.end_user_id = $2 FOR UPDATE OF i`,
    [connection.endUserId],
  );
  if (instances.length === 0) return 0;
  const owned: Array<Pick<Connection, 'id' | 'status' | 'endUserId'>> = (
    await tenantSql(manager).query(tenantId, `SELECT id, status, end_user_id FROM connections WHERE tenant_id = $1 AND end_user_id = $2`, [connection.endUserId])
  ).map((r: { id: string; status: Connection['status']; end_user_id: string }) => ({ id: r.id, status: r.status, endUserId: r.end_user_id }));
  let rebound = 0;
  for (const instance of instances) {
    const stale = bindingProblems(instance.connections, owned, connection.endUserId).filter((p) => p.connector === connection.connectorKey && p.connectionId !== connection.id);
    if (stale.length === 0) continue;
    const bindings = { ...instance.connections };
    for (const p of stale) bindings[p.binding] = connection.id;
    const at = new Date().toISOString();
    const note: InstanceNote = {
      code: 'connection_rebound',
      message: `Now using your reconnected ${connectorName} account${connection.accountName ? ` (${connection.accountName})` : ''}`,
      at,
      binding: stale[0].binding,
      from: stale[0].connectionId,
      to: connection.id,
    };
    await tenantSql(manager).query(tenantId, `UPDATE flow_instances SET connections = $3::jsonb, note = $4::jsonb, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
      instance.id,
      JSON.stringify(bindings),
      JSON.stringify(note),
    ]);
    await audit.record(
      actor,
      'flow.rebound',
      { type: 'flow_instance', id: instance.id },
      { flow: instance.key, bindings: stale.map((p) => ({ binding: p.binding, from: p.connectionId, reason: p.reason })), to: connection.id },
      manager,
    );
    rebound++;
  }
  return rebound;
}
