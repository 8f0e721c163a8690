import { Inject, Injectable, Module } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { Broadcasts } from '../redis/broadcasts';
import { InjectRedis } from '../redis/redis.module';

const BLOCKED_CHANNEL = 'auth-fail:blocked';
const MAX_BLOCKED = 10_000;

/** The credentials a client presents without being anyone yet; each kind has its own count. */
export type CredentialKind = 'api_key' | 'end_user_token' | 'member_session' | 'webhook_url' | 'invitation' | 'oauth_state' | 'metrics_token';

const WHAT: Record<CredentialKind, string> = {
  api_key: 'secret keys',
  end_user_token: 'end-user session tokens',
  member_session: 'portal session cookies',
  webhook_url: 'webhook URLs',
  invitation: 'invitation tokens',
  oauth_state: 'sign-in callbacks',
  metrics_token: 'metrics tokens',
};

/**
 * Throttles guessing: wrong credentials of each kind are counted per client IP in Redis, and past
 * AUTH_FAILURES_PER_IP within AUTH_FAILURE_WINDOW_SECONDS that IP gets 429 for that kind before its
 * next credential is even looked up. Keyed by IP only (never by tenant, key or token), and only
 * failures count, so a guesser can neither lock out a tenant nor be slowed by successful traffic.
 * When Redis is unreachable each process counts in memory instead: authentication keeps working.
 * The block itself is known in memory by every process (the one that saw the limit reached tells
 * the others, Broadcasts), so a request with a good credential costs no Redis round trip.
 */
@Injectable()
export class FailedAttemptThrottle {
  private readonly limiters: Record<CredentialKind, RateLimiterRedis>;
  /** Blocked kind and IP → until when (epoch ms). */
  private readonly blocked = new Map<string, number>();

  constructor(
    @InjectRedis() redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly logger: PinoLogger,
    private readonly broadcasts: Broadcasts,
  ) {
    logger.setContext('FailedAttemptThrottle');
    broadcasts.on(BLOCKED_CHANNEL, (message) => {
      const [key, until] = message.split('\u0000');
      this.block(key, Number(until));
    });
    const { perIp, windowSeconds } = config.failedAttempts;
    const make = (kind: CredentialKind) =>
      new RateLimiterRedis({
        storeClient: redis,
        useRedisPackage: false,
        keyPrefix: `auth-fail:${kind}`,
        points: perIp,
        duration: windowSeconds,
        // Do not wait for a Redis that is down: count in this process meanwhile.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `auth-fail:${kind}`, points: perIp, duration: windowSeconds }),
      });
    this.limiters = Object.fromEntries((Object.keys(WHAT) as CredentialKind[]).map((kind) => [kind, make(kind)])) as Record<CredentialKind, RateLimiterRedis>;
  }

  /** Refuses with 429 too_many_failed_attempts when this IP is over the limit for this kind. */
  async assertAllowed(kind: CredentialKind, ip: string | undefined): Promise<void> {
    const key = `${kind}:${ip ?? 'unknown'}`;
    const until = this.blocked.get(key);
    if (until === undefined) return;
    const msLeft = until - Date.now();
    if (msLeft <= 0) {
      this.blocked.delete(key);
      return;
    }
    const seconds = Math.max(1, Math.ceil(msLeft / 1000));
    throw new AppError(
      'too_many_failed_attempts',
      `Too many wrong ${WHAT[kind]} from your address; try again in ${seconds} seconds`,
      { kind, retryAfterSeconds: seconds },
      { 'Retry-After': String(seconds) },
    );
  }

  async recordFailure(kind: CredentialKind, ip: string | undefined): Promise<void> {
    const state = await this.limiters[kind].penalty(ip ?? 'unknown', 1);
    if (state.consumedPoints < this.limiters[kind].points) return;
    const key = `${kind}:${ip ?? 'unknown'}`;
    const until = Date.now() + state.msBeforeNext;
    this.block(key, until);
    void this.broadcasts.publish(BLOCKED_CHANNEL, `${key}\u0000${until}`);
    // Once per window and IP: the moment it crosses the limit, for operators to see who is guessing.
    if (state.consumedPoints === this.limiters[kind].points)
      this.logger.warn({ kind, ip, retryAfterSeconds: Math.ceil(state.msBeforeNext / 1000) }, 'client IP reached the failed-credential limit');
  }

  private block(key: string, until: number): void {
    if (until > (this.blocked.get(key) ?? 0)) this.blocked.set(key, until);
    // Expired blocks are dropped as they are met; this bounds what a spread of guessing IPs can leave behind.
    if (this.blocked.size > MAX_BLOCKED) for (const [k, u] of this.blocked) if (u <= Date.now()) this.blocked.delete(k);
  }

  async guard<T>(kind: CredentialKind, ip: string | undefined, attempt: () => Promise<T | null>, failureCodes: readonly string[] = []): Promise<T | null> {
    await this.assertAllowed(kind, ip);
    try {
      const result = await attempt();
      if (result === null) await this.recordFailure(kind, ip);
      return result;
    } catch (error) {
      if (error instanceof AppError && failureCodes.includes(error.code)) await this.recordFailure(kind, ip);
      throw error;
    }
  }
}

/** Imported by every module whose routes take a guessable credential. */
@Module({ providers: [FailedAttemptThrottle], exports: [FailedAttemptThrottle] })
export class FailedAttemptsModule {}
