/** The admin API, same origin, JSON in and out, the session in an httpOnly cookie. */

export type Role = 'owner' | 'admin' | 'developer' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];
export const ROLE_RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 };

export interface Membership {
  tenantId: string;
  tenantName: string;
  role: Role;
}

export interface Me {
  userId: string;
  email: string;
  name: string | null;
  activeTenantId: string | null;
  memberships: Membership[];
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdByUserId: string | null;
}

export interface Member {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  status: 'active' | 'invited';
  createdAt: string;
}

export interface AuditEvent {
  id: string;
  actorType: 'member' | 'api_key' | 'end_user' | 'system';
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
  requestId: string | null;
  ip: string | null;
  createdAt: string;
}

export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
}

/** The API's error envelope, `{ error: { code, message, details } }`, as an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Validation problems by field path (`details.errors[{ path, message }]`). */
  get fieldErrors(): Record<string, string> {
    const errors = Array.isArray(this.details.errors) ? (this.details.errors as { path?: unknown; message?: unknown }[]) : [];
    const byPath: Record<string, string> = {};
    for (const { path, message } of errors) {
      if (typeof path === 'string' && typeof message === 'string' && !byPath[path]) byPath[path] = message;
    }
    return byPath;
  }
}

/** Called when an authenticated request answers 401: the session ended elsewhere or expired. */
let onUnauthenticated: (error: ApiError) => void = () => undefined;
export function setUnauthenticatedHandler(handler: (error: ApiError) => void): void {
  onUnauthenticated = handler;
}

export async function request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the Switchboard server. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a proxy's error page, say): reported below
  }
  if (res.ok) return parsed as T;

  const envelope = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const retryAfter = Number(res.headers.get('retry-after'));
  const error = new ApiError(
    res.status,
    typeof envelope?.code === 'string' ? envelope.code : `http_${res.status}`,
    typeof envelope?.message === 'string' ? envelope.message : `The server answered ${res.status} ${res.statusText}`.trim(),
    envelope?.details && typeof envelope.details === 'object' ? (envelope.details as Record<string, unknown>) : {},
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
  if (res.status === 401 && !path.startsWith('/v1/auth/login') && !path.startsWith('/v1/auth/accept-invite')) onUnauthenticated(error);
  throw error;
}

export const api = {
  me: () => request<Me>('GET', '/v1/auth/me'),
  login: (email: string, password: string) => request<Me>('POST', '/v1/auth/login', { email, password }),
  logout: () => request<void>('POST', '/v1/auth/logout'),
  switchTenant: (tenantId: string) => request<Me>('POST', '/v1/auth/switch-tenant', { tenantId }),
  acceptInvite: (token: string, password?: string, name?: string) =>
    request<Me>('POST', '/v1/auth/accept-invite', { token, ...(password ? { password } : {}), ...(name ? { name } : {}) }),

  apiKeys: () => request<Page<ApiKey>>('GET', '/v1/admin/api-keys'),
  createApiKey: (name: string) => request<{ apiKey: ApiKey; secret: string }>('POST', '/v1/admin/api-keys', { name }),
  revokeApiKey: (id: string) => request<void>('DELETE', `/v1/admin/api-keys/${encodeURIComponent(id)}`),

  members: () => request<Page<Member>>('GET', '/v1/admin/members'),
  invite: (email: string, role: Role) =>
    request<{ member: Member; inviteToken: string; inviteUrl: string }>('POST', '/v1/admin/members', { email, role }),
  changeRole: (id: string, role: Role) => request<Member>('PATCH', `/v1/admin/members/${encodeURIComponent(id)}`, { role }),
  removeMember: (id: string) => request<void>('DELETE', `/v1/admin/members/${encodeURIComponent(id)}`),

  auditEvents: (query: { limit?: number; cursor?: string | null; action?: string }) => {
    const params = new URLSearchParams();
    if (query.limit) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.action) params.set('action', query.action);
    const qs = params.toString();
    return request<Page<AuditEvent>>('GET', `/v1/admin/audit-events${qs ? `?${qs}` : ''}`);
  },
};

/** A message fit to show a person for anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
