import { Module } from '@nestjs/common';
import { FailedAttemptsModule } from '../auth/failed-attempt-throttle';
import { provideTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { EndUsersModule } from '../end-users/end-users.module';
import { EndUserSession } from './end-user-session.entity';
import { EndUserStrategy } from './end-user.strategy';
import { HostSigningKey } from './host-signing-key.entity';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [EndUsersModule, FailedAttemptsModule],
  controllers: [SessionsController],
  providers: [SessionsService, EndUserStrategy, provideTenantScoped(EndUserSession, 'Session'), provideTenantScoped(HostSigningKey, 'Signing key')],
  exports: [SessionsService, EndUserStrategy],
})
export class SessionsModule {}
