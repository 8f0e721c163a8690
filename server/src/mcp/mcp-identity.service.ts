import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { FailedAttemptThrottle } from '../auth/failed-attempt-throttle';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EndUsersService } from '../end-users/end-users.service';
import { END_USER_TOKEN_FAILURES, SessionsService } from '../sessions/sessions.service';
import type { McpIdentity } from './mcp-tools.service';

/** Server to server: the end user a secret-key caller acts for (your id for them). */
export const END_USER_HEADER = 'x-switchboard-end-user';
/** Query parameters a token could hide in: refused (MCP forbids tokens in the URI). */
const TOKEN_PARAMS = ['access_token', 'token', 'session', 'api_key', 'apikey', 'key', 'jwt', 'authorization'];

/**
 * Who an MCP request speaks for. An end user's own bearer (a `sess_…` session token, or a JWT the
 * host signed, whose `aud` may name the MCP resource), or a secret key plus the end user's id in
 * X-Switchboard-End-User. Failures are 401 with the WWW-Authenticate header MCP clients read
 * (RFC 9728 protected resource metadata).
 */
@Injectable()
export class McpIdentityService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly apiKeys: ApiKeysService,
    private readonly sessions: SessionsService,
    private readonly endUsers: EndUsersService,
    private readonly throttle: FailedAttemptThrottle,
  ) {}

  /** The resource MCP clients and JWTs name: `<PUBLIC_URL>/mcp`. */
  get resource(): string {
    return `${this.config.publicUrl}/mcp`;
  }

  get metadataUrl(): string {
    return `${this.config.publicUrl}/.well-known/oauth-protected-resource/mcp`;
  }

  /** RFC 9728 protected resource metadata for /mcp. */
  metadata(): { resource: string; resource_name: string; bearer_methods_supported: string[] } {
    return {
      resource: this.resource,
      resource_name: 'Switchboard MCP server',
      bearer_methods_supported: ['header'],
      // No authorization_servers: the bearers are issued by the host app (end-user sessions, JWTs it
      // signs) or are the tenant's secret keys, not by an OAuth authorization server (docs/agents.md).
    };
  }

  private challenge(error?: 'invalid_token' | 'invalid_request'): Record<string, string> {
    const parts = [`resource_metadata="${this.metadataUrl}"`];
    if (error) parts.unshift(`error="${error}"`);
    return { 'WWW-Authenticate': `Bearer ${parts.join(', ')}` };
  }

  async identify(req: Request): Promise<McpIdentity> {
    const leaked = Object.keys(req.query ?? {}).filter((k) => TOKEN_PARAMS.includes(k.toLowerCase()));
    if (leaked.length > 0) {
      throw new AppError(
        'validation_failed',
        `Credentials are not accepted in the query string (${leaked.join(', ')}): send them as "Authorization: Bearer …"`,
        { errors: leaked.map((k) => ({ path: `query.${k}`, message: 'tokens in URLs are refused' })) },
        this.challenge('invalid_request'),
      );
    }
    const header = req.headers.authorization;
    if (!header) {
      throw new AppError(
        'unauthenticated',
        'Send "Authorization: Bearer <end-user session or JWT>", or a secret key (sk_…) with X-Switchboard-End-User',
        undefined,
        this.challenge(),
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <token>"', undefined, this.challenge('invalid_request'));
    const bearer = match[1];
    const named = req.headers[END_USER_HEADER];
    const namedUser = Array.isArray(named) ? named[0] : named;
    const base = { requestId: String((req as { id?: unknown }).id ?? ''), ip: req.ip };

    if (bearer.startsWith('sk_')) {
      const key = await this.throttle.guard('api_key', req.ip, () => this.apiKeys.authenticate(bearer));
      if (!key) throw new AppError('invalid_api_key', 'The secret key is unknown or has been revoked', undefined, this.challenge('invalid_token'));
      if (!namedUser) {
        throw new AppError('validation_failed', 'With a secret key, name the end user in the X-Switchboard-End-User header (your id for them)', {
          errors: [{ path: 'headers.x-switchboard-end-user', message: 'is required with a secret key' }],
        });
      }
      const actor = { tenantId: key.tenantId, type: 'api_key' as const, id: key.id, ...base };
      // Unknown in this tenant: 404 naming the id (another tenant's end users are unknown here too).
      const endUser = await this.endUsers.get(actor, namedUser);
      return { actor, tenantId: key.tenantId, endUserId: endUser.id, externalId: endUser.externalId, allowedConnectors: null };
    }

    let principal;
    try {
      principal = await this.throttle.guard('end_user_token', req.ip, () => this.sessions.authenticate(bearer, [this.resource]), END_USER_TOKEN_FAILURES);
    } catch (error) {
      if (error instanceof AppError && error.status === 401) throw new AppError(error.code, error.message, error.details, this.challenge('invalid_token'));
      throw error;
    }
    if (!principal) throw new AppError('unauthenticated', 'The end-user session is unknown or has expired; ask the app for a new one', undefined, this.challenge('invalid_token'));
    if (namedUser && namedUser !== principal.externalId) {
      throw new AppError('forbidden', 'X-Switchboard-End-User names another end user than the bearer token; leave it out with an end-user token');
    }
    return {
      actor: { tenantId: principal.tenantId, type: 'end_user', id: principal.endUserId, ...base },
      tenantId: principal.tenantId,
      endUserId: principal.endUserId,
      externalId: principal.externalId,
      allowedConnectors: principal.allowedConnectors,
    };
  }
}
