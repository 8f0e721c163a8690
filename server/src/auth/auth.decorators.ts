import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Role } from '../members/membership.entity';
import { actorOf, AuthenticatedRequest } from './principal';

export const AUTH_METADATA = 'switchboard:auth';
export const SESSION_COOKIE = 'sb_session';

export type AuthRequirement =
  { kind: 'public' } | { kind: 'session' } | { kind: 'member'; minRole: Role } | { kind: 'api_key' } | { kind: 'end_user' } | { kind: 'api_key_or_end_user' };

/** No credentials needed. Every route must say how it authenticates; there is no default. */
export const Public = () => SetMetadata(AUTH_METADATA, { kind: 'public' } satisfies AuthRequirement);

/** A signed-in portal user, whatever tenant is active. */
export const SessionAuth = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { kind: 'session' } satisfies AuthRequirement),
    ApiCookieAuth(SESSION_COOKIE),
    ApiUnauthorizedResponse({ description: 'Not signed in' }),
  );

/** A member of the session's active tenant with at least `minRole`. */
export const MemberAuth = (minRole: Role = 'viewer') =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { kind: 'member', minRole } satisfies AuthRequirement),
    ApiCookieAuth(SESSION_COOKIE),
    ApiUnauthorizedResponse({ description: 'Not signed in' }),
    ApiForbiddenResponse({ description: `Needs the ${minRole} role or higher` }),
  );

/** A host backend with a secret key: `Authorization: Bearer sk_…`. */
export const ApiKeyAuth = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { kind: 'api_key' } satisfies AuthRequirement),
    ApiBearerAuth('secretKey'),
    ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked secret key' }),
  );

/** An end user: `Authorization: Bearer sess_…` (minted by POST /v1/sessions) or a JWT signed by the host. */
export const EndUserAuth = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { kind: 'end_user' } satisfies AuthRequirement),
    ApiBearerAuth('endUserSession'),
    ApiUnauthorizedResponse({ description: 'Missing, expired or unknown end-user session' }),
  );

/** A secret key, or an end-user session/JWT (chosen by the bearer's prefix). */
export const ApiKeyOrEndUserAuth = () =>
  applyDecorators(
    SetMetadata(AUTH_METADATA, { kind: 'api_key_or_end_user' } satisfies AuthRequirement),
    ApiBearerAuth('secretKey'),
    ApiBearerAuth('endUserSession'),
    ApiUnauthorizedResponse({ description: 'Missing or invalid secret key or end-user session' }),
  );

/** The acting principal as an audit/tenant-scope Actor. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext) => actorOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()));

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthenticatedRequest>().user);
