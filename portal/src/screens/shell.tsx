import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { messageOf, type Me } from '../api';
import { capitalize } from '../format';
import { Link, navigate, navigationCount, route } from '../router';
import { activeMembership, can, signOut, switchTenant } from '../session';
import { Alert } from '../ui/alert';
import { Logo } from '../ui/logo';
import { EmptyState, PageHeader } from '../ui/page';
import { toast, Toaster } from '../ui/toast';
import { ApiKeys } from './api-keys';
import { AuditLog } from './audit-log';
import { Members } from './members';

const icons = {
  key: 'M10.5 13a3.5 3.5 0 11-7 0 3.5 3.5 0 017 0zM9.5 10.5L16 4M13.5 6.5l2 2M11.5 8.5l1.5 1.5',
  users: 'M7.5 9.5a3 3 0 100-6 3 3 0 000 6zM2 17c0-3 2.5-5 5.5-5s5.5 2 5.5 5M13.5 9.5a2.5 2.5 0 100-5M15 12.2c1.8.5 3 2.2 3 4.8',
  list: 'M7 5h10M7 10h10M7 15h10M3.5 5h.01M3.5 10h.01M3.5 15h.01',
};

function NavIcon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
      <path d={d} fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

function TenantSwitcher({ me }: { me: Me }) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const current = activeMembership.value;
  if (me.memberships.length < 2) {
    return (
      <div class="tenant">
        <span class="tenant-label">Tenant</span>
        <span class="tenant-name">{current?.tenantName}</span>
      </div>
    );
  }
  const sorted = [...me.memberships].sort((a, b) => a.tenantName.localeCompare(b.tenantName));
  return (
    <div class="tenant">
      <label class="tenant-label" for="tenant-switcher">
        Tenant
      </label>
      <select
        id="tenant-switcher"
        class="tenant-select"
        value={me.activeTenantId ?? ''}
        disabled={busy.value}
        onChange={async (event) => {
          const tenantId = event.currentTarget.value;
          const target = me.memberships.find((m) => m.tenantId === tenantId);
          busy.value = true;
          error.value = null;
          try {
            await switchTenant(tenantId);
            toast(`Switched to ${target?.tenantName ?? 'tenant'}`);
          } catch (caught) {
            error.value = messageOf(caught);
            event.currentTarget.value = me.activeTenantId ?? '';
          } finally {
            busy.value = false;
          }
        }}
      >
        {sorted.map((m) => (
          <option key={m.tenantId} value={m.tenantId}>
            {m.tenantName}
          </option>
        ))}
      </select>
      {error.value && (
        <p class="field-error" role="alert">
          {error.value}
        </p>
      )}
    </div>
  );
}

export function Shell({ me }: { me: Me }) {
  const signingOut = useSignal(false);
  const signOutError = useSignal<string | null>(null);
  const current = route.value;
  const tenantId = me.activeTenantId ?? '';

  // The landing page is the first section the member's role can open.
  useEffect(() => {
    if (current === 'home') navigate(can('developer') ? 'api-keys' : 'members', { replace: true });
  }, [current]);

  // After navigating, focus the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    if (navigationCount.value === 0) return;
    requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
  }, [navigationCount.value, current]);

  return (
    <div class="shell">
      <a
        class="skip-link"
        href="#main"
        onClick={(event) => {
          // Move focus without touching the URL's fragment.
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <aside class="sidebar">
        <div class="brand">
          <Logo />
          <span>Switchboard</span>
        </div>
        <TenantSwitcher me={me} />
        <nav aria-label="Sections" class="nav">
          <ul>
            <li>
              <Link to="api-keys">
                <NavIcon d={icons.key} />
                API keys
              </Link>
            </li>
            <li>
              <Link to="members">
                <NavIcon d={icons.users} />
                Members
              </Link>
            </li>
            <li>
              <Link to="audit-log">
                <NavIcon d={icons.list} />
                Audit log
              </Link>
            </li>
          </ul>
        </nav>
        <div class="account">
          <div class="account-who">
            <span class="account-email" title={me.email}>
              {me.name || me.email}
            </span>
            <span class="account-role">{capitalize(activeMembership.value?.role ?? '')}</span>
          </div>
          <button
            type="button"
            class="btn btn-secondary btn-small"
            disabled={signingOut.value}
            onClick={async () => {
              signingOut.value = true;
              signOutError.value = null;
              try {
                await signOut();
              } catch (caught) {
                signOutError.value = messageOf(caught);
                signingOut.value = false;
              }
            }}
          >
            {signingOut.value ? 'Signing out…' : 'Sign out'}
          </button>
          {signOutError.value && (
            <p class="field-error" role="alert">
              {signOutError.value}
            </p>
          )}
        </div>
      </aside>
      <main id="main" class="main" tabIndex={-1}>
        <div class="content" key={tenantId}>
          {current === 'api-keys' && <ApiKeys />}
          {current === 'members' && <Members me={me} />}
          {current === 'audit-log' && <AuditLog />}
          {current === 'not-found' && (
            <>
              <PageHeader title="Page not found" description="There is nothing at this address." />
              <EmptyState title="Try one of the sections on the left.">
                <Link to="home">Go to the start page</Link>
              </EmptyState>
            </>
          )}
        </div>
      </main>
      <Toaster />
    </div>
  );
}

export function NoTenant({ me }: { me: Me }) {
  const error = useSignal<string | null>(null);
  return (
    <div class="auth-page">
      <main class="auth-card">
        <div class="auth-brand">
          <Logo size={36} />
          <span>Switchboard</span>
        </div>
        <h1>No tenant yet</h1>
        <p class="muted auth-lede">
          You are signed in as {me.email}, but you are not a member of any tenant. Ask an admin of your team for an invitation.
        </p>
        {error.value && <Alert tone="error">{error.value}</Alert>}
        <button type="button" class="btn btn-secondary btn-block" onClick={() => signOut().catch((caught: unknown) => (error.value = messageOf(caught)))}>
          Sign out
        </button>
      </main>
    </div>
  );
}
