import type { MigrationInterface } from 'typeorm';
import { CreateTenantsAndMembers1795444953420 } from './1795444953420-CreateTenantsAndMembers';
import { CreateApiKeysAndEndUsers1795444953421 } from './1795444953421-CreateApiKeysAndEndUsers';
import { CreateAuditEvents1795444953422 } from './1795444953422-CreateAuditEvents';
import { CreateConnections1795446900000 } from './1795446900000-CreateConnections';
import { CreateFlows1795449000000 } from './1795449000000-CreateFlows';

/** Every migration, oldest first. A new migration is appended here and nowhere else. */
export const migrations: Array<new () => MigrationInterface> = [
  CreateTenantsAndMembers1795444953420,
  CreateApiKeysAndEndUsers1795444953421,
  CreateAuditEvents1795444953422,
  CreateConnections1795446900000,
  CreateFlows1795449000000,
];

export const MIGRATIONS_TABLE = 'schema_migrations';
