import { DynamicModule, Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import type { AppConfig } from '../config/app-config';
import { CoreModule } from '../core.module';
import { TenantsModule } from '../tenants/tenants.module';

/** What operator commands need: the services, without HTTP or queue processors. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: CliModule, imports: [CoreModule.forRoot(config), TenantsModule, ApiKeysModule] };
  }
}
