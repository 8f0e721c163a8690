import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createPublicKey, KeyObject } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor, EndUserPrincipal } from '../auth/principal';
import { AppError } from '../common/errors/app-error';
import { environmentName } from '../tenants/environments.service';
import { generateToken, hashToken } from '../common/crypto/tokens';
import { trustedTenantId } from '../common/tenancy/tenant-id';
import { InjectTenantScoped } from '../common/tenancy/tenant-scoped.provider';
import { TenantScopedRepository } from '../common/tenancy/tenant-scoped.repository';
import { acrossTenants } from '../common/tenancy/tenant-sql';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUser } from '../end-users/end-user.entity';
import { EndUserFields, EndUsersService } from '../end-users/end-users.service';
import { EndUserSession } from './end-user-session.entity';
import { HostSigningKey } from './host-signing-key.entity';
import { isUUID } from 'class-validator';

/** Host-signed JWTs may not live longer than this: they cannot be revoked one by one. */
const MAX_JWT_LIFETIME_SECONDS = 24 * 3600;
/** Clocks of host and server may disagree this much (exp, nbf, iat). */
const CLOCK_SKEW_SECONDS = 60;
/** Far above any real JWT (a few hundred bytes), far below what would cost us to parse. */
const MAX_JWT_LENGTH = 8192;

/** Codes a presented end-user credential fails with: each counts towards the client IP's guessing limit. */
// Guesses only: an expired or ill-claimed JWT carries a valid signature (claims are checked after it),
// so a host sending stale tokens is not throttled as a guesser.
export const END_USER_TOKEN_FAILURES = ['unauthenticated', 'jwt_malformed', 'jwt_signing_key_unknown', 'jwt_signature_invalid'] as const;

function jwtError(
  code: 'jwt_malformed' | 'jwt_signing_key_unknown' | 'jwt_signature_invalid' | 'jwt_claim_invalid' | 'jwt_expired',
  message: string,
  details?: Record<string, unknown>,
) {
  return new AppError(code, message, details);
}

/** jose's verification errors, each as a 401 with its own code and the claim it is about. */
function fromJoseError(errors: typeof import('jose', { with: { 'resolution-mode': 'import' } }).errors, error: unknown): AppError {
  if (error instanceof errors.JWTExpired) return jwtError('jwt_expired', 'The JWT has expired ("exp" is past); sign a new one', { claim: 'exp' });
  if (error instanceof errors.JWTClaimValidationFailed) {
    return jwtError('jwt_claim_invalid', `The JWT "${error.claim}" claim is not valid: ${error.message}`, { claim: error.claim, reason: error.reason });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return jwtError('jwt_signature_invalid', 'The JWT signature does not match the signing key');
  if (error instanceof errors.JOSEAlgNotAllowed) return jwtError('jwt_signature_invalid', `The JWT was refused: ${error.message}`, { header: 'alg' });
  return jwtError('jwt_malformed', `The JWT could not be read: ${(error as Error).message}`);
}

export interface NewSession extends EndUserFields {
  externalId: string;
  allowedConnectors?: string[];
  ttlSeconds?: number;
}

@Injectable()
export class SessionsService {
  constructor(
    @InjectTenantScoped(EndUserSession) private readonly sessions: TenantScopedRepository<EndUserSession>,
    @InjectTenantScoped(HostSigningKey) private readonly signingKeys: TenantScopedRepository<HostSigningKey>,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly endUsers: EndUsersService,
    private readonly audit: AuditService,
  ) {}

  /** Upserts the end user by the host's id and mints a session token for it (shown once, stored hashed). */
  async create(actor: Actor, input: NewSession): Promise<{ token: string; session: EndUserSession; endUser: EndUser }> {
    const { endUser } = await this.endUsers.upsert(actor, input.externalId, input);
    const token = generateToken('endUserSession', await environmentName(this.db.manager, actor.tenantId));
    const ttl = input.ttlSeconds ?? this.config.endUserSessionTtlSeconds;
    const session = await this.db.transaction(async (manager) => {
      const created = await this.sessions.with(manager).insert(actor.tenantId, {
        endUserId: endUser.id,
        tokenHash: hashToken(token),
        allowedConnectors: input.allowedConnectors ? [...new Set(input.allowedConnectors)] : null,
        expiresAt: new Date(Date.now() + ttl * 1000),
      });
      await this.audit.record(
        actor,
        'end_user_session.created',
        { type: 'end_user', id: endUser.id },
        { externalId: endUser.externalId, ttlSeconds: ttl, allowedConnectors: created.allowedConnectors },
        manager,
      );
      return created;
    });
    return { token, session, endUser };
  }

  /**
   * A `sess_…` token or a host-signed JWT to the end user it speaks for; null when it does not check out.
   * A JWT's `aud` must be our public URL, or one of `audiences` (the MCP server also accepts its resource URL).
   */
  async authenticate(bearer: string, audiences: string[] = []): Promise<EndUserPrincipal | null> {
    return bearer.startsWith('sess_') ? this.fromSessionToken(bearer) : this.fromJwt(bearer, audiences);
  }

  private async fromSessionToken(token: string): Promise<EndUserPrincipal | null> {
    const rows: Array<{ id: string; tenant_id: string; end_user_id: string; external_id: string; allowed_connectors: string[] | null; expires_at: Date }> = await acrossTenants(
      this.db,
      'a session token decides the tenant, so its lookup cannot be tenant-scoped',
      `SELECT s.id, s.tenant_id, s.end_user_id, u.external_id, s.allowed_connectors, s.expires_at
           FROM end_user_sessions s JOIN end_users u ON u.id = s.end_user_id
          WHERE s.token_hash = $1 AND s.expires_at > now()`,
      [hashToken(token)],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      kind: 'end_user',
      tenantId: trustedTenantId(row.tenant_id),
      endUserId: row.end_user_id,
      externalId: row.external_id,
      allowedConnectors: row.allowed_connectors,
      sessionId: row.id,
      expiresAt: row.expires_at,
    };
  }

  private async fromJwt(jwt: string, audiences: string[]): Promise<EndUserPrincipal> {
    const accepted = [this.config.publicUrl, ...audiences];
    if (jwt.length > MAX_JWT_LENGTH) throw jwtError('jwt_malformed', `The token is over ${MAX_JWT_LENGTH} characters`);
    const jose = await import('jose');
    let header: Record<string, unknown>;
    try {
      header = jose.decodeProtectedHeader(jwt) as Record<string, unknown>;
    } catch {
      throw jwtError('jwt_malformed', 'The bearer token is neither a session token (sess_…) nor a JWT');
    }
    if (typeof header.kid !== 'string' || !isUUID(header.kid)) {
      throw jwtError('jwt_malformed', 'The JWT needs a "kid" header naming one of your registered signing keys', { header: 'kid' });
    }
    // The key id decides the tenant.
    const key = await this.db.getRepository(HostSigningKey).findOne({ where: { id: header.kid, revokedAt: IsNull() } });
    if (!key) throw jwtError('jwt_signing_key_unknown', `Signing key ${header.kid} is unknown or revoked`, { header: 'kid' });
    // Checked before verifying, so "none" or an algorithm other than the key's never reaches a verifier.
    if (header.alg !== key.algorithm) {
      throw jwtError('jwt_signature_invalid', `The JWT "alg" must be ${key.algorithm}, the algorithm of signing key ${key.id}`, { header: 'alg' });
    }
    let claims: Record<string, unknown>;
    try {
      const publicKey = await jose.importJWK(key.publicKey, key.algorithm);
      ({ payload: claims } = await jose.jwtVerify(jwt, publicKey, {
        algorithms: [key.algorithm],
        audience: accepted,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      throw fromJoseError(jose.errors, error);
    }
    const now = Date.now() / 1000;
    if (typeof claims.aud !== 'string') throw jwtError('jwt_claim_invalid', `The JWT "aud" claim must be the string ${accepted.join(' or ')}, not a list`, { claim: 'aud' });
    if (typeof claims.iat === 'number' && claims.iat > now + CLOCK_SKEW_SECONDS) {
      throw jwtError('jwt_claim_invalid', `The JWT "iat" claim is in the future (more than ${CLOCK_SKEW_SECONDS} seconds ahead of our clock)`, { claim: 'iat' });
    }
    const exp = claims.exp as number;
    if (exp - now > MAX_JWT_LIFETIME_SECONDS) {
      throw jwtError('jwt_claim_invalid', `The JWT expires too far ahead: at most ${MAX_JWT_LIFETIME_SECONDS / 3600} hours`, { claim: 'exp' });
    }
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub.length < 1 || sub.length > 255 || sub.includes('\u0000')) {
      throw jwtError('jwt_claim_invalid', 'The JWT "sub" claim must be your end user id: a string of 1-255 characters', { claim: 'sub' });
    }
    const allowed = claims.allowed_connectors;
    if (allowed !== undefined && !(Array.isArray(allowed) && allowed.length <= 100 && allowed.every((c) => typeof c === 'string' && c.length <= 100))) {
      throw jwtError('jwt_claim_invalid', 'The JWT "allowed_connectors" claim must be an array of at most 100 connector keys', { claim: 'allowed_connectors' });
    }
    const tenantId = trustedTenantId(key.tenantId);
    const fields: EndUserFields = {};
    if (typeof claims.name === 'string') fields.displayName = claims.name.slice(0, 200);
    if (typeof claims.email === 'string') fields.email = claims.email.slice(0, 254);
    // A JWT lets the host skip POST /v1/sessions, so the end user is created on first sight.
    const { endUser } = await this.endUsers.upsert({ tenantId, type: 'system', id: `signing_key:${key.id}` }, sub, fields);
    return {
      kind: 'end_user',
      tenantId,
      endUserId: endUser.id,
      externalId: endUser.externalId,
      allowedConnectors: (allowed as string[] | undefined) ?? null,
      sessionId: null,
      expiresAt: new Date(exp * 1000),
    };
  }

  listSigningKeys(actor: Actor): Promise<HostSigningKey[]> {
    return this.signingKeys.find(actor.tenantId, { order: { createdAt: 'DESC' } });
  }

  /** Registers a public key (JWK or PEM). Private keys are refused: we must never hold the host's signing key. */
  registerSigningKey(actor: Actor, input: { name: string; algorithm: 'ES256' | 'RS256'; publicKey: string | Record<string, unknown> }): Promise<HostSigningKey> {
    const jwk = toPublicJwk(input.algorithm, input.publicKey);
    return this.db.transaction(async (manager) => {
      const key = await this.signingKeys.with(manager).insert(actor.tenantId, { name: input.name, algorithm: input.algorithm, publicKey: jwk });
      await this.audit.record(actor, 'signing_key.created', { type: 'signing_key', id: key.id }, { name: input.name, algorithm: input.algorithm }, manager);
      return key;
    });
  }

  revokeSigningKey(actor: Actor, id: string): Promise<void> {
    return this.db.transaction(async (manager) => {
      const keys = this.signingKeys.with(manager);
      const key = await keys.get(actor.tenantId, { id }, id);
      if (key.revokedAt) return;
      await keys.update(actor.tenantId, { id }, { revokedAt: new Date() });
      await this.audit.record(actor, 'signing_key.revoked', { type: 'signing_key', id }, { name: key.name }, manager);
    });
  }
}

function invalidKey(message: string): AppError {
  return new AppError('validation_failed', `publicKey: ${message}`, { errors: [{ path: 'publicKey', message }] });
}

function toPublicJwk(algorithm: 'ES256' | 'RS256', given: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof given === 'object' && 'd' in given) throw invalidKey('is a private key; register the public half only');
  if (typeof given === 'string' && /PRIVATE KEY/.test(given)) throw invalidKey('is a private key; register the public half only');
  let key: KeyObject;
  try {
    key = typeof given === 'string' ? createPublicKey(given) : createPublicKey({ key: given as never, format: 'jwk' });
  } catch {
    throw invalidKey('is not a public key in PEM or JWK form');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === 'ES256' && !(key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1')) {
    throw invalidKey('ES256 needs an EC P-256 key');
  }
  if (algorithm === 'RS256' && !(key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048)) {
    throw invalidKey('RS256 needs an RSA key of at least 2048 bits');
  }
  return key.export({ format: 'jwk' }) as Record<string, unknown>;
}
