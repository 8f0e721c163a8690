import { Global, Inject, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Vault } from './vault';

export const VAULT = Symbol('VAULT');
export const InjectVault = () => Inject(VAULT);

@Global()
@Module({
  providers: [{ provide: VAULT, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new Vault(config.masterKey, config.previousMasterKeys) }],
  exports: [VAULT],
})
export class VaultModule {}
