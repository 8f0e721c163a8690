import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { environmentName } from '../tenants/environments.service';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { TenantId, trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { Broadcasts } from '../redis/broadcasts';
import { ApiKey } from './api-key.entity';

// Updating last_used_at on every request would turn each API call into a write; a minute is precise enough.
const LAST_USED_PRECISION_MS = 60_000;
/**
 * Keys found are remembered for this long. A revocation drops the key at once in every process
 * (API_KEY_REVOKED); the lifetime bounds how long a process that missed the message (Redis down)
 * may still accept a revoked key.
 */
const REMEMBERED_MS = 30_000;
const REMEMBERED_LIMIT = 10_000;
const API_KEY_REVOKED = 'api-keys:revoked';

interface Remembered {
  id: string;
  tenantId: TenantId;
  lastUsedAt: number;
  until: number;
}

@Injectable()
export class ApiKeysService implements OnModuleInit {
  /** Keys found by their hash: one lookup per key and REMEMBERED_MS, not one per request. */
  private readonly remembered = new Map<string, Remembered>();
  /** Counts revocations heard, so a lookup that overlapped one does not remember what it read. */
  private revocations = 0;

  constructor(
    @InjectTenantScoped(ApiKey) private readonly keys: TenantScopedRepository<ApiKey>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly broadcasts: Broadcasts,
  ) {}

  onModuleInit(): void {
    this.broadcasts.on(API_KEY_REVOKED, (id) => this.forget(id));
  }

  private forget(id: string): void {
    this.revocations++;
    for (const [hash, key] of this.remembered) if (key.id === id) this.remembered.delete(hash);
  }

  list(actor: Actor): Promise<ApiKey[]> {
    return this.keys.find(actor.tenantId, { order: { createdAt: 'DESC' } });
  }

  /** Creates a key; the secret is in the result and nowhere else, ever again. */
  create(actor: Actor, name: string): Promise<{ apiKey: ApiKey; secret: string }> {
    return this.db.transaction(async (manager) => {
      const environment = await environmentName(manager, actor.tenantId);
      const secret = generateToken('apiKey', environment);
      const apiKey = await this.keys.with(manager).insert(actor.tenantId, {
        name,
        // The environment and a few characters of the secret: enough to recognise it, too few to matter.
        tokenPrefix: secret.slice(0, `sk_${environment}_`.length + 4),
        tokenHash: hashToken(secret),
        createdByUserId: actor.type === 'member' ? actor.id : null,
      });
      await this.audit.record(actor, 'api_key.created', { type: 'api_key', id: apiKey.id }, { name }, manager);
      return { apiKey, secret };
    });
  }

  /** Revokes a key at once; revoking an already revoked key is a no-op that still answers the key. */
  revoke(actor: Actor, id: string): Promise<ApiKey> {
    return this.db
      .transaction(async (manager) => {
        const keys = this.keys.with(manager);
        const key = await keys.get(actor.tenantId, { id }, id);
        if (!key.revokedAt) {
          key.revokedAt = new Date();
          await keys.update(actor.tenantId, { id }, { revokedAt: key.revokedAt });
          await this.audit.record(actor, 'api_key.revoked', { type: 'api_key', id }, { name: key.name }, manager);
        }
        return key;
      })
      .then(async (key) => {
        this.forget(id);
        await this.broadcasts.publish(API_KEY_REVOKED, id);
        return key;
      });
  }

  /** Looks a presented secret up by its hash. The key itself decides the tenant, so this lookup is not tenant-scoped. */
  async authenticate(secret: string): Promise<{ id: string; tenantId: TenantId } | null> {
    const hash = hashToken(secret);
    const now = Date.now();
    let key = this.remembered.get(hash);
    if (!key || key.until < now) {
      const revocations = this.revocations;
      const row = await this.db.getRepository(ApiKey).findOne({ where: { tokenHash: hash, revokedAt: IsNull() } });
      this.remembered.delete(hash);
      if (!row) return null;
      key = { id: row.id, tenantId: trustedTenantId(row.tenantId), lastUsedAt: row.lastUsedAt?.getTime() ?? 0, until: now + REMEMBERED_MS };
      if (this.remembered.size >= REMEMBERED_LIMIT) this.remembered.delete(this.remembered.keys().next().value!);
      if (revocations === this.revocations) this.remembered.set(hash, key);
    }
    if (now - key.lastUsedAt > LAST_USED_PRECISION_MS) {
      key.lastUsedAt = now;
      await this.db.getRepository(ApiKey).update(key.id, { lastUsedAt: new Date(now) });
    }
    return { id: key.id, tenantId: key.tenantId };
  }
}
