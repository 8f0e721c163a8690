import { connectorStampSql } from '../connector-configs/connector-configs.service';
import type { Connection } from './connection.entity';

/**
 * A connection row (table alias `c`, tenant $1) as jsonb keyed by the entity's property names, with
 * its sealed credentials and `connectorStamp` (connectorStampSql): everything a provider call needs
 * from PostgreSQL, in whatever statement reads the connection anyway.
 */
export const CONNECTION_READ = `jsonb_build_object('id', c.id, 'tenantId', c.tenant_id, 'endUserId', c.end_user_id, 'connectorKey', c.connector_key, 'status', c.status,
  'accountId', c.account_id, 'accountName', c.account_name, 'credentials', c.credentials, 'config', c.config, 'scopes', c.scopes, 'expiresAt', c.expires_at,
  'lastRefreshedAt', c.last_refreshed_at, 'lastUsedAt', c.last_used_at, 'lastError', c.last_error, 'createdAt', c.created_at, 'updatedAt', c.updated_at,
  'connectorStamp', ${connectorStampSql('c.connector_key')})`;

const DATES = ['expiresAt', 'lastRefreshedAt', 'lastUsedAt', 'createdAt', 'updatedAt'] as const;

/** A connection as CONNECTION_READ gives it (credentials still sealed), and its connector's stamp. */
export interface ReadConnection {
  connection: Connection;
  connectorStamp: string;
}

export function readConnection(json: Record<string, unknown>): ReadConnection {
  const { connectorStamp, ...row } = json;
  for (const field of DATES) row[field] = row[field] == null ? null : new Date(row[field] as string);
  return { connection: row as unknown as Connection, connectorStamp: connectorStamp as string };
}
