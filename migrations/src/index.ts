import type { MigrationInterface } from 'typeorm';
import { CreateTenantsAndMembers1795444953420 } from './1795444953420-CreateTenantsAndMembers';
import { CreateApiKeysAndEndUsers1795444953421 } from './1795444953421-CreateApiKeysAndEndUsers';
import { CreateAuditEvents1795444953422 } from './1795444953422-CreateAuditEvents';
import { CreateConnections1795446900000 } from './1795446900000-CreateConnections';
import { CreateFlows1795449000000 } from './1795449000000-CreateFlows';
import { AddApprovalsAndRunControls1795460000000 } from './1795460000000-AddApprovalsAndRunControls';
import { AddScheduleAndWebhookTriggers1795460500000 } from './1795460500000-AddScheduleAndWebhookTriggers';
import { CreateWebhooks1795461500000 } from './1795461500000-CreateWebhooks';
import { KeepDefinitionKeyOrder1795462000000 } from './1795462000000-KeepDefinitionKeyOrder';
import { AddFlowInstanceNote1795470500000 } from './1795470500000-AddFlowInstanceNote';
import { CountRunCrashes1795470300000 } from './1795470300000-CountRunCrashes';
import { AddOAuthStateConnectionConfig1795479000000 } from './1795479000000-AddOAuthStateConnectionConfig';
import { CreateCustomProviders1795480000000 } from './1795480000000-CreateCustomProviders';
import { AddEndUserOAuthApp1795480100000 } from './1795480100000-AddEndUserOAuthApp';
import { CreateConnectorOpenApiImports1795481000000 } from './1795481000000-CreateConnectorOpenApiImports';
import { AddPollTriggersAndProviderSubscriptions1795490000000 } from './1795490000000-AddPollTriggersAndProviderSubscriptions';
import { AddMcpServer1795492000000 } from './1795492000000-AddMcpServer';
import { CreateLlmProviders1795493000000 } from './1795493000000-CreateLlmProviders';
import { AddTokenUsage1795494000000 } from './1795494000000-AddTokenUsage';
import { AddFlowRollouts1795495000000 } from './1795495000000-AddFlowRollouts';
import { AddAlerts1795496000000 } from './1795496000000-AddAlerts';
import { AddEnvironments1795497000000 } from './1795497000000-AddEnvironments';
import { AddRolloutPause1795498000000 } from './1795498000000-AddRolloutPause';
import { AddConnectionChangeNotices1795499000000 } from './1795499000000-AddConnectionChangeNotices';

/** Every migration, oldest first. A new migration is appended here and nowhere else. */
export const migrations: Array<new () => MigrationInterface> = [
  CreateTenantsAndMembers1795444953420,
  CreateApiKeysAndEndUsers1795444953421,
  CreateAuditEvents1795444953422,
  CreateConnections1795446900000,
  CreateFlows1795449000000,
  AddApprovalsAndRunControls1795460000000,
  AddScheduleAndWebhookTriggers1795460500000,
  CreateWebhooks1795461500000,
  KeepDefinitionKeyOrder1795462000000,
  AddFlowInstanceNote1795470500000,
  CountRunCrashes1795470300000,
  AddOAuthStateConnectionConfig1795479000000,
  CreateCustomProviders1795480000000,
  AddEndUserOAuthApp1795480100000,
  CreateConnectorOpenApiImports1795481000000,
  AddPollTriggersAndProviderSubscriptions1795490000000,
  AddMcpServer1795492000000,
  CreateLlmProviders1795493000000,
  AddTokenUsage1795494000000,
  AddFlowRollouts1795495000000,
  AddAlerts1795496000000,
  AddEnvironments1795497000000,
  AddRolloutPause1795498000000,
  AddConnectionChangeNotices1795499000000,
];

export const MIGRATIONS_TABLE = 'schema_migrations';
