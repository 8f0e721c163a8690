import { plainToInstance, Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { parseAllowlist } from '../common/net/outbound-guard';

const toBoolean = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** The environment, exactly as operators write it. Every variable is documented in the README. */
class Environment {
  @IsIn(['development', 'production', 'test'])
  @IsOptional()
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '127.0.0.1';

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @IsOptional()
  PUBLIC_URL?: string;

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Matches(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'must be 1-64 characters of letters, digits, ":", "_" or "-"' })
  REDIS_PREFIX = 'sb';

  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 random bytes, base64-encoded (openssl rand -base64 32)' })
  MASTER_KEY!: string;

  @Matches(/^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/, { message: 'must be a comma-separated list of base64 32-byte keys' })
  @IsOptional()
  MASTER_KEY_PREVIOUS?: string;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(24 * 3600)
  END_USER_SESSION_TTL_SECONDS = 1800;

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @IsOptional()
  SANDBOX_URL?: string;

  @IsString()
  @IsOptional()
  OUTBOUND_ALLOWLIST?: string;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  TOKEN_REFRESH_MARGIN_SECONDS = 300;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3650)
  RUN_RETENTION_DAYS = 30;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  QUEUE_LOCK_DURATION_MS = 15_000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  RUN_TIMEOUT_SECONDS = 3600;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  TENANT_MAX_CONCURRENT_RUNS = 50;

  @Transform(toBoolean)
  @IsBoolean()
  CONNECTION_RATE_LIMITS = true;

  /** Polls one worker runs at once (each waits on a provider). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  POLL_CONCURRENCY = 50;

  /** A poll's time limit; a claimed poll not finished within twice this is taken over by another worker. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(600)
  POLL_TIMEOUT_SECONDS = 30;

  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(600_000)
  QUEUE_STALLED_INTERVAL_MS = 5_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'must be a size such as 512kb or 1mb' })
  BODY_LIMIT = '1mb';

  @Type(() => Number)
  @IsInt()
  @Min(300)
  @Max(30 * 24 * 3600)
  MEMBER_SESSION_TTL_SECONDS = 12 * 3600;

  @Transform(toBoolean)
  @IsBoolean()
  ALLOW_SIGNUP = false;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  SIGNUP_MAX_PER_HOUR = 10;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  LOGIN_MAX_FAILURES = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  LOGIN_LOCKOUT_SECONDS = 900;

  @Type(() => Number)
  @IsInt()
  @Min(300)
  @Max(30 * 24 * 3600)
  INVITATION_TTL_SECONDS = 72 * 3600;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AUTH_FAILURES_PER_IP = 100;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  AUTH_FAILURE_WINDOW_SECONDS = 600;

  @IsString()
  @MinLength(16)
  @IsOptional()
  METRICS_TOKEN?: string;

  @Transform(toBoolean)
  @IsBoolean()
  @IsOptional()
  METRICS_PUBLIC?: boolean;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  MAINTENANCE_INTERVAL_SECONDS = 900;

  /** How long a run may sit queued or running with no live job before the recovery sweep gives it one. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  RUN_RECOVERY_GRACE_SECONDS = 10;

  @Transform(toBoolean)
  @IsBoolean()
  TRUST_PROXY = false;

  @Matches(/^\d{1,9}(,\d{1,9}){0,19}$/, { message: 'must be 1-20 comma-separated delays in milliseconds, e.g. 5000,300000' })
  WEBHOOK_RETRY_SCHEDULE_MS = '5000,300000,1800000,7200000,18000000,36000000,36000000';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  WEBHOOK_DISABLE_AFTER_FAILURES = 5;

  /** How often the worker evaluates alert rules. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  ALERTS_INTERVAL_SECONDS = 60;

  /** Where alert emails are sent from: smtp://user:pass@host:587 or smtps://…; unset, email channels are skipped. */
  @Matches(/^smtps?:\/\/.+/, { message: 'must be an smtp:// or smtps:// URL' })
  @IsOptional()
  SMTP_URL?: string;

  @IsString()
  @IsOptional()
  ALERTS_FROM?: string;
}

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Origin people and providers reach this deployment at, without a trailing slash. */
  publicUrl: string;
  database: { url: string; poolSize: number };
  redis: { url: string; prefix: string };
  masterKey: Buffer;
  /** Older master keys still accepted for decryption while `vault rotate` re-encrypts. */
  previousMasterKeys: Buffer[];
  endUserSessionTtlSeconds: number;
  /** The local sandbox providers; tenants may point connectors at it (demo, tests). */
  sandboxUrl?: string;
  /** Private destinations outbound calls may reach anyway (OUTBOUND_ALLOWLIST). */
  outboundAllowlist: string;
  /** Refresh OAuth tokens this long before they expire. */
  tokenRefreshMarginSeconds: number;
  /** Bull: how long a worker holds a job before it must renew, and how often dead workers' jobs are reclaimed. */
  queue: { lockDurationMs: number; stalledIntervalMs: number };
  /** Finished runs older than this are deleted by the worker. */
  runRetentionDays: number;
  /** Engine limits: default execution time per run, runs of one tenant executing at once, whether connectors' request rates are enforced. */
  engine: { runTimeoutSeconds: number; tenantMaxConcurrentRuns: number; connectionRateLimits: boolean };
  polling: { concurrency: number; timeoutSeconds: number };
  logLevel: string;
  bodyLimit: string;
  memberSessionTtlSeconds: number;
  allowSignup: boolean;
  /** Signups per client IP per hour, when signup is allowed. */
  signupMaxPerHour: number;
  login: { maxFailures: number; lockoutSeconds: number };
  /** How long an invitation token stays valid. */
  invitationTtlSeconds: number;
  /** Wrong credentials of one kind (secret key, session token, webhook URL…) a client IP may present per window before it gets 429. */
  failedAttempts: { perIp: number; windowSeconds: number };
  metricsToken?: string;
  /** /metrics without a token: open to anyone (default outside production) or refused (default in production). */
  metricsPublic: boolean;
  maintenanceIntervalSeconds: number;
  runRecoveryGraceSeconds: number;
  trustProxy: boolean;
  /** Outbound webhooks: delays between attempts (one retry per entry), and failed deliveries in a row that disable an endpoint. */
  webhooks: { retryScheduleMs: number[]; disableAfterFailures: number };
  /** Alert rules: evaluation interval, and the SMTP server email notices go through (none: email is skipped). */
  alerts: { intervalSeconds: number; smtpUrl?: string; from: string };
}

export class ConfigError extends Error {}

/** Parses and validates the environment once. Throws a ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable counts as unset, so `FOO= node …` falls back to the default.
  const raw: Record<string, string | undefined> = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: true });
  const extra: string[] = [];
  try {
    parseAllowlist(env.OUTBOUND_ALLOWLIST ?? '');
  } catch (error) {
    extra.push(`  ${(error as Error).message}`);
  }
  if (errors.length > 0 || extra.length > 0) {
    const lines = errors.map((error) => {
      const value = ['MASTER_KEY', 'MASTER_KEY_PREVIOUS', 'METRICS_TOKEN', 'SMTP_URL'].includes(error.property) ? '(hidden)' : JSON.stringify(raw[error.property] ?? null);
      const why = Object.values(error.constraints ?? {}).join('; ');
      return `  ${error.property}: ${raw[error.property] === undefined ? 'is required' : why} (got ${value})`;
    });
    throw new ConfigError(`Invalid configuration:\n${[...lines, ...extra].join('\n')}`);
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    masterKey: Buffer.from(env.MASTER_KEY, 'base64'),
    previousMasterKeys: (env.MASTER_KEY_PREVIOUS ?? '')
      .split(',')
      .filter(Boolean)
      .map((k) => Buffer.from(k, 'base64')),
    endUserSessionTtlSeconds: env.END_USER_SESSION_TTL_SECONDS,
    sandboxUrl: env.SANDBOX_URL?.replace(/\/+$/, ''),
    outboundAllowlist: env.OUTBOUND_ALLOWLIST ?? '',
    tokenRefreshMarginSeconds: env.TOKEN_REFRESH_MARGIN_SECONDS,
    queue: { lockDurationMs: env.QUEUE_LOCK_DURATION_MS, stalledIntervalMs: env.QUEUE_STALLED_INTERVAL_MS },
    runRetentionDays: env.RUN_RETENTION_DAYS,
    engine: { runTimeoutSeconds: env.RUN_TIMEOUT_SECONDS, tenantMaxConcurrentRuns: env.TENANT_MAX_CONCURRENT_RUNS, connectionRateLimits: env.CONNECTION_RATE_LIMITS },
    polling: { concurrency: env.POLL_CONCURRENCY, timeoutSeconds: env.POLL_TIMEOUT_SECONDS },
    logLevel: env.LOG_LEVEL,
    bodyLimit: env.BODY_LIMIT,
    memberSessionTtlSeconds: env.MEMBER_SESSION_TTL_SECONDS,
    allowSignup: env.ALLOW_SIGNUP,
    signupMaxPerHour: env.SIGNUP_MAX_PER_HOUR,
    login: { maxFailures: env.LOGIN_MAX_FAILURES, lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS },
    invitationTtlSeconds: env.INVITATION_TTL_SECONDS,
    failedAttempts: { perIp: env.AUTH_FAILURES_PER_IP, windowSeconds: env.AUTH_FAILURE_WINDOW_SECONDS },
    metricsToken: env.METRICS_TOKEN,
    metricsPublic: env.METRICS_PUBLIC ?? env.NODE_ENV !== 'production',
    maintenanceIntervalSeconds: env.MAINTENANCE_INTERVAL_SECONDS,
    runRecoveryGraceSeconds: env.RUN_RECOVERY_GRACE_SECONDS,
    trustProxy: env.TRUST_PROXY,
    webhooks: { retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number), disableAfterFailures: env.WEBHOOK_DISABLE_AFTER_FAILURES },
    alerts: { intervalSeconds: env.ALERTS_INTERVAL_SECONDS, smtpUrl: env.SMTP_URL, from: env.ALERTS_FROM ?? `Switchboard alerts <alerts@${new URL(publicUrl).hostname}>` },
  };
}
