import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Client } from 'pg';
import type { TenantId } from '../common/tenancy/tenant-id';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PROCESS_ID } from '../process-identity';
import type { Loaded } from './credentials.service';

/** The channel the connections triggers announce changes on (migration AddConnectionChangeNotices). */
export const CONNECTION_CHANGES = 'switchboard_connections';
const MAX_ENTRIES = 10_000;
/** A backstop only: every change is announced, and an entry is dropped when it is. */
const TTL_MS = 60_000;
const RELISTEN_MS = 1_000;

/**
 * Connections with their credentials decrypted, kept in this process so a proxied call does not
 * read and decrypt the row each time. PostgreSQL announces every change (to the connection, or to
 * what its connector resolves from) at commit on a LISTEN connection, and the entry goes. While that
 * connection is down nothing is kept — the cache is only ever as fresh as its announcements.
 */
@Injectable()
export class ConnectionCache implements OnApplicationBootstrap, OnApplicationShutdown {
  /** By connection id; the tenant is checked on every hit. */
  private readonly entries = new Map<string, { tenantId: TenantId; loaded: Loaded; until: number }>();
  /** Announcements seen, numbered; and the number of the last one for each `c:<id>` / `t:<tenant>`. */
  private announced = 0;
  private readonly lastAnnounced = new Map<string, number>();
  /** Reads that started before this (the map above was cleared, or we were not listening) are not kept. */
  private floor = 0;
  private client: Client | null = null;
  private listening = false;
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext('ConnectionCache');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.client?.end().catch(() => undefined);
  }

  /** The connection from memory, or `read()` (kept when no change was announced while it read). */
  async get(tenantId: TenantId, id: string, read: () => Promise<Loaded>): Promise<Loaded> {
    const hit = this.entries.get(id);
    if (hit && hit.tenantId === tenantId && hit.until > Date.now() && this.listening) return hit.loaded;
    const started = this.announced;
    const loaded = await read();
    const changed = Math.max(this.lastAnnounced.get(`c:${id}`) ?? -1, this.lastAnnounced.get(`t:${tenantId}`) ?? -1);
    if (this.listening && started >= this.floor && changed <= started) {
      this.entries.delete(id);
      this.entries.set(id, { tenantId, loaded, until: Date.now() + TTL_MS });
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    }
    return loaded;
  }

  /** Drops a connection this process just changed (committed), without waiting for PostgreSQL's announcement (read-your-writes). */
  forget(id: string): void {
    this.announce(`c:${id}`);
  }

  /**
   * Runs `commit`, a transaction that changes what a tenant's connections resolve from (connector
   * settings, OpenAPI documents, custom providers) or deletes some (an end user's), then drops the
   * tenant's connections: this process's next read sees the change without waiting for PostgreSQL's
   * announcement (read-your-writes).
   */
  async changing<T>(tenantId: TenantId, commit: () => Promise<T>): Promise<T> {
    const result = await commit();
    this.announce(`t:${tenantId}`);
    return result;
  }

  private announce(payload: string): void {
    this.announced++;
    this.lastAnnounced.set(payload, this.announced);
    if (this.lastAnnounced.size > MAX_ENTRIES) {
      this.lastAnnounced.clear();
      this.floor = this.announced;
    }
    const id = payload.slice(2);
    if (payload.startsWith('c:')) this.entries.delete(id);
    else for (const [key, entry] of this.entries) if (entry.tenantId === id) this.entries.delete(key);
  }

  private forgetAll(): void {
    this.listening = false;
    this.entries.clear();
    this.floor = ++this.announced;
  }

  private async listen(): Promise<void> {
    if (this.closing) return;
    // Neither the connect nor the LISTEN may hang: either failing is a loss, tried again in a second.
    const client = new Client({ connectionString: this.config.database.url, application_name: PROCESS_ID, keepAlive: true, connectionTimeoutMillis: 3_000, query_timeout: 5_000 });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.forgetAll();
      client.end().catch(() => undefined);
      if (!this.closing) {
        this.logger.warn({ err: error?.message }, 'connection change announcements lost: not caching connections until they are back');
        setTimeout(() => void this.listen(), RELISTEN_MS).unref();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (n) => n.payload && this.announce(n.payload));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CONNECTION_CHANGES}`);
      // Anything read before this point may have missed an announcement.
      this.floor = ++this.announced;
      this.listening = true;
    } catch (error) {
      lost(error as Error);
    }
  }
}

/** One cache per process: the services that change connections or their connectors drop its entries themselves. */
@Module({ providers: [ConnectionCache], exports: [ConnectionCache] })
export class ConnectionCacheModule {}
