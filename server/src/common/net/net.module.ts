import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { OutboundGuard, parseAllowlist } from './outbound-guard';

/** The one outbound guard every call to a third party goes through. */
@Global()
@Module({
  providers: [{ provide: OutboundGuard, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new OutboundGuard(parseAllowlist(config.outboundAllowlist)) }],
  exports: [OutboundGuard],
})
export class NetModule {}
