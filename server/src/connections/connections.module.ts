import { Module } from '@nestjs/common';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import { EndUsersModule } from '../end-users/end-users.module';
import { SessionsModule } from '../sessions/sessions.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { ConnectController } from './connect.controller';
import { ConnectionCacheModule } from './connection-cache';
import { ConnectionEvents } from './connection-events';
import { ConnectService } from './connect.service';
import { Connection } from './connection.entity';
import { ConnectionsController, MyConnectionsController } from './connections.controller';
import { ConnectionsService } from './connections.service';
import { CredentialsService } from './credentials.service';
import { OAuthState } from './oauth-state.entity';
import { OptionsService } from './options.service';
import { ProviderClientService } from './provider-client.service';
import { ProviderSubscriptionsService } from './provider-subscriptions.service';
import { ProxyController } from './proxy.controller';

@Module({
  imports: [ConnectionCacheModule, ConnectorConfigsModule, EndUsersModule, SessionsModule, WebhooksModule, FailedAttemptsModule],
  controllers: [ConnectController, ConnectionsController, MyConnectionsController, ProxyController],
  providers: [
    ConnectService,
    ConnectionEvents,
    ConnectionsService,
    CredentialsService,
    OptionsService,
    ProviderClientService,
    ProviderSubscriptionsService,
    provideTenantScoped(Connection, 'Connection'),
    provideTenantScoped(OAuthState, 'OAuth state'),
  ],
  exports: [CredentialsService, ProviderClientService, ConnectionsService, ProviderSubscriptionsService, OptionsService],
})
export class ConnectionsModule {}
