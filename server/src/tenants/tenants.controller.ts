import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, MemberAuth } from '../auth/auth.decorators';
import type { Actor } from '../auth/principal';
import { TenantsService } from './tenants.service';
import { TenantView, UpdateTenantDto } from './tenants.dto';

@ApiTags('admin: tenant')
@Controller('v1/admin/tenant')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @MemberAuth('viewer')
  @ApiOperation({ summary: 'The active tenant and its settings' })
  @ApiOkResponse({ type: TenantView })
  async get(@CurrentActor() actor: Actor): Promise<TenantView> {
    return TenantView.of(await this.tenants.get(actor.tenantId));
  }

  @Patch()
  @MemberAuth('admin')
  @ApiOperation({ summary: 'Rename the tenant, set its allowed origins or its widget theme' })
  @ApiOkResponse({ type: TenantView })
  async update(@CurrentActor() actor: Actor, @Body() body: UpdateTenantDto): Promise<TenantView> {
    return TenantView.of(await this.tenants.update(actor, body));
  }
}
