import { computed, signal } from '@preact/signals';
import { api, ApiError, ROLE_RANK, setUnauthenticatedHandler, type Environment, type Me, type Membership, type Role } from './api';

export type Session = { status: 'loading' } | { status: 'signed-out'; notice?: string } | { status: 'signed-in'; me: Me };

export const session = signal<Session>({ status: 'loading' });

/** The active environment (`activeTenantId` names one of the active tenant's environments). */
export const activeEnvironment = computed<Environment | null>(() => {
  const current = session.value;
  if (current.status !== 'signed-in') return null;
  return current.me.environments.find((e) => e.id === current.me.activeTenantId) ?? null;
});

/** The active tenant's environments (the switcher's list). */
export const environments = computed<Environment[]>(() => (session.value.status === 'signed-in' ? session.value.me.environments : []));

/** The id memberships name a tenant by: its primary environment's, whichever environment is active. */
export function tenantIdOf(me: Me): string | null {
  return me.environments.find((e) => e.primary)?.id ?? me.activeTenantId;
}

/** The membership of the active tenant, if signed in to one. */
export const activeMembership = computed<Membership | null>(() => {
  const current = session.value;
  if (current.status !== 'signed-in') return null;
  const tenantId = tenantIdOf(current.me);
  return current.me.memberships.find((m) => m.tenantId === tenantId) ?? null;
});

export const role = computed<Role | null>(() => activeMembership.value?.role ?? null);

/** Whether the active role is at least `minRole`. The server checks again; this only shapes the UI. */
export function can(minRole: Role): boolean {
  const current = role.value;
  return current !== null && ROLE_RANK[current] >= ROLE_RANK[minRole];
}

setUnauthenticatedHandler(() => {
  if (session.value.status === 'signed-in') {
    session.value = { status: 'signed-out', notice: 'Your session has ended. Sign in again to continue.' };
  }
});

export async function loadSession(): Promise<void> {
  try {
    session.value = { status: 'signed-in', me: await api.me() };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) session.value = { status: 'signed-out' };
    else session.value = { status: 'signed-out', notice: error instanceof Error ? error.message : String(error) };
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  const me = await api.login(email, password);
  session.value = { status: 'signed-in', me };
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch (error) {
    // Already signed out server-side is still signed out.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  session.value = { status: 'signed-out', notice: 'You have signed out.' };
}

/** Switches the session to a tenant (its primary environment) or to another environment of the active tenant. */
export async function switchTenant(tenantId: string): Promise<void> {
  const me = await api.switchTenant(tenantId);
  session.value = { status: 'signed-in', me };
}

/** Reads the session again (after the tenant's environments changed, say), staying where it is. */
export async function refreshMe(): Promise<void> {
  session.value = { status: 'signed-in', me: await api.me() };
}

export function signedIn(me: Me): void {
  session.value = { status: 'signed-in', me };
}
