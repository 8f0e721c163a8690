import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { ApiKey } from './api-key.entity';

// Updating last_used_at on every request would turn each API call into a write; a minute is precise enough.
const LAST_USED_PRECISION_MS = 60_000;

@Injectable()
export class ApiKeysService {
  constructor(
    @InjectTenantScoped(ApiKey) private readonly keys: TenantScopedRepository<ApiKey>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  list(actor: Actor): Promise<ApiKey[]> {
    return this.keys.find(actor.tenantId, { order: { createdAt: 'DESC' } });
  }

  /** Creates a key; the secret is in the result and nowhere else, ever again. */
  create(actor: Actor, name: string): Promise<{ apiKey: ApiKey; secret: string }> {
    return this.db.transaction(async (manager) => {
      const secret = generateToken('apiKey');
      const apiKey = await this.keys.with(manager).insert(actor.tenantId, {
        name,
        tokenPrefix: secret.slice(0, 10),
        tokenHash: hashToken(secret),
        createdByUserId: actor.type === 'member' ? actor.id : null,
      });
      await this.audit.record(actor, 'api_key.created', { type: 'api_key', id: apiKey.id }, { name }, manager);
      return { apiKey, secret };
    });
  }

  /** Revokes a key at once; revoking an already revoked key is a no-op that still answers the key. */
  revoke(actor: Actor, id: string): Promise<ApiKey> {
    return this.db.transaction(async (manager) => {
      const keys = this.keys.with(manager);
      const key = await keys.get(actor.tenantId, { id }, id);
      if (!key.revokedAt) {
        key.revokedAt = new Date();
        await keys.update(actor.tenantId, { id }, { revokedAt: key.revokedAt });
        await this.audit.record(actor, 'api_key.revoked', { type: 'api_key', id }, { name: key.name }, manager);
      }
      return key;
    });
  }

  /** Looks a presented secret up by its hash. The key itself decides the tenant, so this lookup is not tenant-scoped. */
  async authenticate(secret: string): Promise<{ id: string; tenantId: TenantId } | null> {
    const key = await this.db.getRepository(ApiKey).findOne({ where: { tokenHash: hashToken(secret), revokedAt: IsNull() } });
    if (!key) return null;
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
      await this.db.getRepository(ApiKey).update(key.id, { lastUsedAt: new Date() });
    }
    return { id: key.id, tenantId: trustedTenantId(key.tenantId) };
  }
}
