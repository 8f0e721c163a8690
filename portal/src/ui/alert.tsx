import type { ComponentChildren } from 'preact';

type Tone = 'error' | 'success' | 'info' | 'warning';

/** A message box. Errors are announced at once (role=alert), the rest politely (role=status). */
export function Alert({ tone, title, children, onDismiss }: { tone: Tone; title?: string; children?: ComponentChildren; onDismiss?: () => void }) {
  return (
    <div class={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <div class="alert-body">
        {title && <p class="alert-title">{title}</p>}
        {children && <div>{children}</div>}
      </div>
      {onDismiss && (
        <button type="button" class="icon-button" aria-label="Dismiss" onClick={onDismiss}>
          <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
            <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
          </svg>
        </button>
      )}
    </div>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <span class="spinner-wrap" role="status">
      <span class="spinner" aria-hidden="true" />
      <span class="spinner-label">{label}</span>
    </span>
  );
}

export function Badge({ tone, children }: { tone: 'neutral' | 'success' | 'danger' | 'warning' | 'accent'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}
