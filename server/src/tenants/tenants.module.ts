import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MembersModule } from '../members/members.module';
import { EnvironmentsController } from './environments.controller';
import { EnvironmentsModule } from './environments.module';
import { SignupController } from './signup.controller';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

@Module({
  imports: [MembersModule, AuthModule, EnvironmentsModule],
  controllers: [TenantsController, EnvironmentsController, SignupController],
  providers: [TenantsService],
  exports: [TenantsService],
})
export class TenantsModule {}
