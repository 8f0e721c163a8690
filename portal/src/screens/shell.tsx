import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { messageOf, type Me } from '../api';
import { capitalize } from '../format';
import { Link, navigate, navigationCount, route, type RouteName } from '../router';
import { activeEnvironment, activeMembership, signOut, switchTenant, tenantIdOf } from '../session';
import { Alert } from '../ui/alert';
import { Logo } from '../ui/logo';
import { EmptyState, PageHeader } from '../ui/page';
import { toast, Toaster } from '../ui/toast';
import { ApiKeys } from './api-keys';
import { Approvals } from './approvals';
import { AuditLog } from './audit-log';
import { ConnectorDetail, Connectors } from './connectors';
import { Dashboard } from './dashboard';
import { EndUserDetail, EndUsers } from './end-users';
import { FlowEditorScreen } from './flow-editor';
import { Flows } from './flows';
import { Members } from './members';
import { RunDetail } from './run-detail';
import { Runs } from './runs';
import { Settings } from './settings';
import { WebhookDetail, Webhooks } from './webhooks';
import { Mcp } from './mcp';
import { CustomProviders } from './custom-providers';
import { LlmProviders } from './llm-providers';
import { Alerts } from './alerts';
import { Environments } from './environments';

const icons = {
  chart: 'M3 17h14M5.5 14V9M10 14V4.5M14.5 14v-7',
  agent: 'M4.5 9.5a2 2 0 104 0 2 2 0 00-4 0zM11.5 5a2 2 0 104 0 2 2 0 00-4 0zM11.5 15a2 2 0 104 0 2 2 0 00-4 0zM8.3 8.6l3.4-2.2M8.3 10.4l3.4 2.2',
  runs: 'M4 5.5h4l2 4.5 2-7 2 4.5h2M4 14.5h12',
  check: 'M10 17.5a7.5 7.5 0 100-15 7.5 7.5 0 000 15zM6.8 10.2l2.2 2.2 4.3-4.6',
  flow: 'M5 4.5a1.5 1.5 0 100 3 1.5 1.5 0 000-3zM15 12.5a1.5 1.5 0 100 3 1.5 1.5 0 000-3zM6.5 6h3a2 2 0 012 2v4a2 2 0 002 2h0',
  plug: 'M7 3v4M13 3v4M5 7h10v3a5 5 0 01-10 0V7zM10 15v3',
  person: 'M10 9.5a3 3 0 100-6 3 3 0 000 6zM4 17c0-3.2 2.7-5.5 6-5.5s6 2.3 6 5.5',
  gear: 'M10 12.5a2.5 2.5 0 100-5 2.5 2.5 0 000 5zM10 2.5v2M10 15.5v2M2.5 10h2M15.5 10h2M4.7 4.7l1.4 1.4M13.9 13.9l1.4 1.4M4.7 15.3l1.4-1.4M13.9 6.1l1.4-1.4',
  hook: 'M7 6.5a3 3 0 115 2.2L9.5 13M6 13.5a3 3 0 104.5 2.6h4M14.5 13a3 3 0 10-2.2 5',
  key: 'M10.5 13a3.5 3.5 0 11-7 0 3.5 3.5 0 017 0zM9.5 10.5L16 4M13.5 6.5l2 2M11.5 8.5l1.5 1.5',
  users: 'M7.5 9.5a3 3 0 100-6 3 3 0 000 6zM2 17c0-3 2.5-5 5.5-5s5.5 2 5.5 5M13.5 9.5a2.5 2.5 0 100-5M15 12.2c1.8.5 3 2.2 3 4.8',
  list: 'M7 5h10M7 10h10M7 15h10M3.5 5h.01M3.5 10h.01M3.5 15h.01',
  layers: 'M10 3l7 3.5-7 3.5-7-3.5L10 3zM3 10l7 3.5 7-3.5M3 13.5L10 17l7-3.5',
};

const NAV: { title: string; items: { to: string; label: string; icon: string; section: RouteName[] }[] }[] = [
  {
    title: 'Monitor',
    items: [
      { to: 'dashboard', label: 'Dashboard', icon: icons.chart, section: ['dashboard'] },
      { to: 'runs', label: 'Runs', icon: icons.runs, section: ['runs', 'run'] },
      { to: 'approvals', label: 'Approvals', icon: icons.check, section: ['approvals'] },
      { to: 'alerts', label: 'Alerts', icon: 'M10 3a4.5 4.5 0 0 0-4.5 4.5V11L4 13.5h12L14.5 11V7.5A4.5 4.5 0 0 0 10 3zM8.5 16a1.5 1.5 0 0 0 3 0', section: ['alerts', 'alert'] },
    ],
  },
  {
    title: 'Build',
    items: [
      { to: 'flows', label: 'Flows', icon: icons.flow, section: ['flows', 'flow'] },
      { to: 'connectors', label: 'Connectors', icon: icons.plug, section: ['connectors', 'connector'] },
      { to: 'custom-providers', label: 'Custom providers', icon: icons.plug, section: ['custom-providers', 'custom-provider'] },
      { to: 'end-users', label: 'End users', icon: icons.person, section: ['end-users', 'end-user'] },
      {
        to: 'llm-providers',
        label: 'AI models',
        icon: 'M10 3l1.8 4.2L16 9l-4.2 1.8L10 15l-1.8-4.2L4 9l4.2-1.8L10 3zM15.5 14l.7 1.8 1.8.7-1.8.7-.7 1.8-.7-1.8-1.8-.7 1.8-.7.7-1.8z',
        section: ['llm-providers', 'llm-provider'],
      },
      { to: 'mcp', label: 'AI agents (MCP)', icon: icons.agent, section: ['mcp'] },
    ],
  },
  {
    title: 'Settings',
    items: [
      { to: 'settings', label: 'General', icon: icons.gear, section: ['settings'] },
      { to: 'api-keys', label: 'API keys', icon: icons.key, section: ['api-keys'] },
      { to: 'webhooks', label: 'Webhooks', icon: icons.hook, section: ['webhooks', 'webhook'] },
      { to: 'members', label: 'Members', icon: icons.users, section: ['members'] },
      { to: 'environments', label: 'Environments', icon: icons.layers, section: ['environments'] },
      { to: 'audit-log', label: 'Audit log', icon: icons.list, section: ['audit-log'] },
    ],
  },
];

function NavIcon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
      <path d={d} fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

/**
 * The active environment, on every page: a calm band for development, an unmistakable one for a
 * protected environment (production), and a select to switch (the session's scope, like a tenant).
 */
function EnvironmentBar({ me }: { me: Me }) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const env = activeEnvironment.value;
  if (!env) return null;
  return (
    <div class={`env-bar${env.protected ? ' env-bar-protected' : ''}`} data-environment={env.name}>
      <label class="env-label" for="environment-switcher">
        Environment
      </label>
      <select
        id="environment-switcher"
        class="env-select"
        value={env.id}
        disabled={busy.value}
        onChange={async (event) => {
          const select = event.currentTarget;
          const target = me.environments.find((e) => e.id === select.value);
          busy.value = true;
          error.value = null;
          try {
            await switchTenant(select.value);
            toast(`Switched to ${target?.name ?? 'environment'}`);
          } catch (caught) {
            error.value = messageOf(caught);
            select.value = env.id;
          } finally {
            busy.value = false;
          }
        }}
      >
        {me.environments.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name}
            {e.protected ? ' (protected)' : ''}
          </option>
        ))}
      </select>
      <span class="env-badge">{env.protected ? `${env.name} · protected` : env.name}</span>
      <span class="env-note">{env.protected ? 'Flows arrive here only by promotion.' : 'Changes stay here until promoted.'}</span>
      {error.value && (
        <p class="field-error" role="alert">
          {error.value}
        </p>
      )}
    </div>
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
  // Memberships name a tenant by its primary environment, whichever of its environments is active.
  const activeTenant = tenantIdOf(me) ?? '';
  return (
    <div class="tenant">
      <label class="tenant-label" for="tenant-switcher">
        Tenant
      </label>
      <select
        id="tenant-switcher"
        class="tenant-select"
        value={activeTenant}
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
            event.currentTarget.value = activeTenant;
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

  // The landing page is the dashboard, which every role can read.
  useEffect(() => {
    if (current.name === 'home') navigate('dashboard', { replace: true });
  }, [current.name]);

  // After navigating, focus the new page's heading so keyboard and screen-reader users start there.
  useEffect(() => {
    if (navigationCount.value === 0) return;
    requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
  }, [navigationCount.value]);

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
          {NAV.map((group) => (
            <div class="nav-group" key={group.title}>
              <p class="nav-group-title" id={`nav-${group.title.toLowerCase()}`}>
                {group.title}
              </p>
              <ul aria-labelledby={`nav-${group.title.toLowerCase()}`}>
                {group.items.map((item) => (
                  <li key={item.to}>
                    <Link to={item.to} section={item.section}>
                      <NavIcon d={item.icon} />
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <div class="account">
          <div class="account-who">
            {me.name && <span class="account-name">{me.name}</span>}
            {/* The whole address, broken before its @ when the sidebar is too narrow for it. */}
            <span class="account-email">{breakable(me.email)}</span>
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
        <EnvironmentBar me={me} />
        {/* Keyed by the active environment: switching tenant or environment loads every page afresh. */}
        <div class="content" key={tenantId}>
          <Page name={current.name} param={current.param ?? ''} me={me} />
          {current.name === 'not-found' && (
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

function Page({ name, param, me }: { name: RouteName; param: string; me: Me }) {
  switch (name) {
    case 'dashboard':
      return <Dashboard />;
    case 'runs':
      return <Runs />;
    case 'run':
      return <RunDetail runId={param} key={param} />;
    case 'approvals':
      return <Approvals />;
    case 'flows':
      return <Flows />;
    case 'flow':
      return <FlowEditorScreen flowKey={param} key={param} />;
    case 'connectors':
      return <Connectors />;
    case 'connector':
      return <ConnectorDetail connectorKey={param} key={param} />;
    case 'end-users':
      return <EndUsers />;
    case 'end-user':
      return <EndUserDetail externalId={param} key={param} />;
    case 'mcp':
      return <Mcp />;
    case 'settings':
      return <Settings />;
    case 'webhooks':
      return <Webhooks />;
    case 'custom-providers':
      return <CustomProviders id={null} />;
    case 'custom-provider':
      return <CustomProviders id={param} key={param} />;
    case 'webhook':
      return <WebhookDetail endpointId={param} key={param} />;
    case 'api-keys':
      return <ApiKeys />;
    case 'members':
      return <Members me={me} />;
    case 'environments':
      return <Environments me={me} />;
    case 'audit-log':
      return <AuditLog />;
    case 'alerts':
    case 'alert':
      return <Alerts ruleId={name === 'alert' ? param : null} key={param} />;
    case 'llm-providers':
    case 'llm-provider':
      return <LlmProviders providerKey={name === 'llm-provider' ? param : null} key={param} />;
    default:
      return null;
  }
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
        <p class="muted auth-lede">You are signed in as {me.email}, but you are not a member of any tenant. Ask an admin of your team for an invitation.</p>
        {error.value && <Alert tone="error">{error.value}</Alert>}
        <button type="button" class="btn btn-secondary btn-block" onClick={() => signOut().catch((caught: unknown) => (error.value = messageOf(caught)))}>
          Sign out
        </button>
      </main>
    </div>
  );
}

/** An email address that may wrap before its @ (and anywhere, when a part is longer than a line). */
function breakable(email: string) {
  const at = email.lastIndexOf('@');
  if (at <= 0) return email;
  return (
    <>
      {email.slice(0, at)}
      <wbr />
      {email.slice(at)}
    </>
  );
}
