import type { Request } from 'express';
import type { ActorType } from '../audit/audit-event.entity';
import type { TenantId } from '../common/tenancy/tenant-id';
import type { Role } from '../members/membership.entity';

/** A signed-in portal user acting in one tenant (the session's active tenant). */
export interface MemberPrincipal {
  kind: 'member';
  /** The session's active environment: the scope of every admin call. */
  tenantId: TenantId;
  /** The vendor's first environment, which holds its memberships. */
  accountId: TenantId;
  userId: string;
  membershipId: string;
  role: Role;
  sessionId: string;
}

/** A signed-in portal user before a tenant is involved (e.g. /v1/auth/me). */
export interface SessionPrincipal {
  kind: 'session';
  userId: string;
  sessionId: string;
  activeTenantId: string | null;
}

/** A host backend using a secret key. */
export interface ApiKeyPrincipal {
  kind: 'api_key';
  tenantId: TenantId;
  apiKeyId: string;
}

/** A customer of the tenant, through a session token the host minted or a JWT the host signed. */
export interface EndUserPrincipal {
  kind: 'end_user';
  tenantId: TenantId;
  endUserId: string;
  externalId: string;
  /** Null: every connector the tenant enabled. */
  allowedConnectors: string[] | null;
  /** The session row, or null for a host-signed JWT. */
  sessionId: string | null;
  expiresAt: Date;
}

export type Principal = MemberPrincipal | SessionPrincipal | ApiKeyPrincipal | EndUserPrincipal;

/** Who is doing something, in which tenant: the tenant scope for data access and the subject of audit events. */
export interface Actor {
  tenantId: TenantId;
  /** Members only: the vendor's first environment, where memberships live (see MemberPrincipal). */
  accountId?: TenantId;
  type: ActorType;
  id: string | null;
  /** Set for members: services check it for actions that depend on rank. */
  role?: Role;
  requestId?: string;
  ip?: string;
}

export type AuthenticatedRequest = Request & { user?: Principal; tenantId?: string; id?: string };

export function actorOf(req: AuthenticatedRequest): Actor {
  const principal = req.user;
  if (!principal || principal.kind === 'session') {
    throw new Error('actorOf() needs a tenant principal: mark the route @MemberAuth(), @ApiKeyAuth() or @EndUserAuth()');
  }
  const base = { tenantId: principal.tenantId, requestId: String(req.id ?? ''), ip: req.ip };
  switch (principal.kind) {
    case 'member':
      return { ...base, accountId: principal.accountId, type: 'member', id: principal.userId, role: principal.role };
    case 'api_key':
      return { ...base, type: 'api_key', id: principal.apiKeyId };
    case 'end_user':
      return { ...base, type: 'end_user', id: principal.endUserId };
  }
}

/** The tenant's first environment, where memberships live: a member's `accountId`, else the actor's own scope. */
export const accountOf = (actor: Actor): TenantId => actor.accountId ?? actor.tenantId;
