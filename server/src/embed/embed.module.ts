import { Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConnectorConfigsModule } from '../connector-configs/connector-configs.module';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantsModule } from '../tenants/tenants.module';
import { EmbedFiles, resolveEmbedDist } from './embed-files';
import { EMBED_FILES, EmbedFilesController } from './embed-files.controller';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';
import { widgetCors, WidgetOrigins } from './widget-cors';

/** The embeddable widget: its script files, the end user's catalogue, and CORS for the widget's API calls. */
@Module({
  imports: [ConnectorConfigsModule, ConnectionsModule, TenantsModule],
  controllers: [EmbedFilesController, IntegrationsController],
  providers: [IntegrationsService, { provide: EMBED_FILES, useFactory: () => new EmbedFiles(resolveEmbedDist()) }, WidgetOrigins],
  exports: [WidgetOrigins],
})
export class EmbedModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(widgetCors(new URL(this.config.publicUrl).origin)).forRoutes({ path: 'v1/me/*path', method: RequestMethod.ALL }, { path: 'v1/me', method: RequestMethod.ALL });
  }
}
