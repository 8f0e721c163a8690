import { Module } from '@nestjs/common';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { LlmModels } from './llm-models.service';
import { LlmProvider } from './llm-provider.entity';
import { LlmProvidersController } from './llm-providers.controller';
import { LlmProvidersService } from './llm-providers.service';

/** The admin API of a tenant's LLM providers, and LlmModels (exported: the engine's agent step calls models through it). */
@Module({
  controllers: [LlmProvidersController],
  providers: [LlmProvidersService, LlmModels, provideTenantScoped(LlmProvider, 'LLM provider')],
  exports: [LlmModels],
})
export class LlmProvidersModule {}
