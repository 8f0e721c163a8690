import { DynamicModule, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AuditModule } from './audit/audit.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { LoggingModule } from './logging/logging.module';
import { QueuesModule } from './queues/queues.module';
import { RedisModule } from './redis/redis.module';
import { VaultModule } from './vault/vault.module';
import { NetModule } from './common/net/net.module';

export interface CoreOptions {
  /** Where pino writes; stdout unless given (tests capture logs this way). */
  logDestination?: DestinationStream;
}

/** What both processes need: configuration, logs, PostgreSQL, Redis, queues and the audit log. */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, options: CoreOptions = {}): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, options.logDestination),
        DatabaseModule,
        RedisModule,
        QueuesModule,
        AuditModule,
        VaultModule,
        NetModule,
      ],
    };
  }
}
