import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { MembersModule } from '../members/members.module';
import { EnvironmentsModule } from '../tenants/environments.module';
import { AuthController } from './auth.controller';
import { AuthRateLimiter } from './auth-rate-limiter';
import { FailedAttemptsModule } from './failed-attempt-throttle';
import { MemberSessionsService } from './member-sessions.service';
import { ApiKeyStrategy, MemberSessionStrategy, PasswordStrategy } from './strategies';

@Module({
  imports: [PassportModule, MembersModule, ApiKeysModule, FailedAttemptsModule, EnvironmentsModule],
  controllers: [AuthController],
  providers: [MemberSessionsService, AuthRateLimiter, ApiKeyStrategy, MemberSessionStrategy, PasswordStrategy],
  exports: [MemberSessionsService, AuthRateLimiter, ApiKeyStrategy, MemberSessionStrategy],
})
export class AuthModule {}
