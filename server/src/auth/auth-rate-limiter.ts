import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { IRateLimiterStoreOptions, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../common/errors/app-error';
import { InjectRedis } from '../redis/redis.module';

/**
 * Rate limits for unauthenticated entry points. Counts failed logins per email and per client IP in Redis (so the limit holds across API
 * processes). Past the limit, attempts are refused with 429 until the window ends, even with the
 * right password, so guessing cannot continue.
 */
@Injectable()
export class AuthRateLimiter {
  private readonly byEmail: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;
  private readonly signups: RateLimiterRedis;

  constructor(@InjectRedis() redis: Redis, @Inject(APP_CONFIG) config: AppConfig) {
    const { maxFailures, lockoutSeconds } = config.login;
    // The shared client already prefixes keys with the deployment prefix.
    // Without Redis each process counts in memory, so a Redis outage does not stop sign-ins.
    const limiter = (options: { keyPrefix: string; points: number; duration: number }) =>
      new RateLimiterRedis({
        ...options,
        storeClient: redis,
        useRedisPackage: false,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options),
      } as IRateLimiterStoreOptions);
    this.byEmail = limiter({ keyPrefix: 'login-fail:email', points: maxFailures, duration: lockoutSeconds });
    // An office behind one NAT shares an IP: allow it ten people's worth of typos.
    this.byIp = limiter({ keyPrefix: 'login-fail:ip', points: maxFailures * 10, duration: lockoutSeconds });
    this.signups = limiter({ keyPrefix: 'signup:ip', points: config.signupMaxPerHour, duration: 3600 });
  }

  /** Public signup, when enabled, creates rows: at most SIGNUP_MAX_PER_HOUR tenants an hour per IP. */
  async consumeSignup(ip: string): Promise<void> {
    try {
      await this.signups.consume(ip);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        throw new AppError(
          'rate_limited',
          `Too many signups from your address; try again in ${seconds} seconds`,
          { retryAfterSeconds: seconds },
          { 'Retry-After': String(seconds) },
        );
      }
      throw rejection;
    }
  }

  async assertAllowed(email: string, ip: string): Promise<void> {
    const [emailState, ipState] = await Promise.all([this.byEmail.get(email.toLowerCase()), this.byIp.get(ip)]);
    const blocked = [emailState, ipState].filter(
      (state, i): state is RateLimiterRes => state !== null && state.consumedPoints >= (i === 0 ? this.byEmail.points : this.byIp.points),
    );
    if (blocked.length > 0) throw this.tooMany(Math.max(...blocked.map((s) => s.msBeforeNext)));
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await Promise.all([this.byEmail.penalty(email.toLowerCase(), 1), this.byIp.penalty(ip, 1)]);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.byEmail.delete(email.toLowerCase());
  }

  private tooMany(msBeforeNext: number): AppError {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new AppError(
      'rate_limited',
      `Too many failed sign-in attempts; try again in ${seconds} seconds`,
      { retryAfterSeconds: seconds },
      {
        'Retry-After': String(seconds),
      },
    );
  }
}
