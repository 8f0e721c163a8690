import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Role } from '../api';
import { Link } from '../router';
import { activeMembership } from '../session';

/** The heading of a section; it takes focus after navigation so screen readers announce the page. */
export function PageHeader({ title, description, actions }: { title: string; description: ComponentChildren; actions?: ComponentChildren }) {
  const tenantName = activeMembership.value?.tenantName;
  useEffect(() => {
    document.title = `${title}${tenantName ? ` · ${tenantName}` : ''} · Switchboard`;
  }, [title, tenantName]);
  return (
    <header class="page-header">
      <div>
        <h1 tabIndex={-1}>{title}</h1>
        <p class="muted">{description}</p>
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </header>
  );
}

/** Shown instead of a section the member's role cannot open (the server would answer 403). */
export function RoleNotice({ needed, what }: { needed: Role; what: string }) {
  const role = activeMembership.value?.role;
  return (
    <div class="empty-state">
      <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
        <rect x="5" y="10.5" width="14" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="1.6" />
        <path d="M8.5 10.5V8a3.5 3.5 0 017 0v2.5" fill="none" stroke="currentColor" stroke-width="1.6" />
      </svg>
      <p class="empty-title">
        You need the {needed} role or higher to {what}
      </p>
      <p class="muted">
        You are a{role === 'admin' || role === 'owner' ? 'n' : ''} {role} in this tenant. Ask an admin or owner if you need more access.
      </p>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state">
      <p class="empty-title">{title}</p>
      {children && <p class="muted">{children}</p>}
    </div>
  );
}

/** "Section / this page" above a page's header: a link back to the section, then `children` naming this page. */
export function Breadcrumb({ to, section, class: className, children }: { to: string; section: string; class?: string; children: ComponentChildren }) {
  return (
    <nav aria-label="Breadcrumb" class="breadcrumb">
      <Link to={to}>{section}</Link>
      <span aria-hidden="true">/</span>
      <span aria-current="page" class={className}>
        {children}
      </span>
    </nav>
  );
}
