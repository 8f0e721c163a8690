import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MembersModule } from '../members/members.module';
import { SignupController } from './signup.controller';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

@Module({
  imports: [MembersModule, AuthModule],
  controllers: [TenantsController, SignupController],
  providers: [TenantsService],
  exports: [TenantsService],
})
export class TenantsModule {}
