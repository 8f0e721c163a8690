import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { ApiKeysService } from '../api-keys/api-keys.service';
import type { Actor } from '../auth/principal';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { TenantsService } from '../tenants/tenants.service';
import { CliModule } from './cli.module';

export interface BootstrapInput {
  tenantName: string;
  slug?: string;
  email: string;
  password?: string;
  apiKeyName?: string;
}

export interface BootstrapResult {
  tenantId: string;
  slug: string;
  email: string;
  /** Only when a new user was created: the password it got. */
  password?: string;
  apiKey?: string;
}

/** Creates a tenant, its owner and optionally a first secret key, through the same services the API uses. */
export async function bootstrapTenant(config: AppConfig, input: BootstrapInput): Promise<BootstrapResult> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot({ ...config, logLevel: 'warn' }), { logger: ['error', 'warn'] });
  try {
    const password = input.password ?? randomBytes(12).toString('base64url');
    const { tenant, userId, userCreated } = await app.get(TenantsService).createWithOwner({
      name: input.tenantName,
      slug: input.slug,
      owner: { email: input.email, password },
    });
    const result: BootstrapResult = { tenantId: tenant.id, slug: tenant.slug, email: input.email };
    if (userCreated) result.password = password;
    if (input.apiKeyName) {
      const actor: Actor = { tenantId: trustedTenantId(tenant.id), type: 'member', id: userId, role: 'owner' };
      result.apiKey = (await app.get(ApiKeysService).create(actor, input.apiKeyName)).secret;
    }
    return result;
  } finally {
    await app.close();
  }
}
