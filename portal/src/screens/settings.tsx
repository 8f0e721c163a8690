import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type Tenant, type WidgetTheme } from '../api';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { Field, TextField } from '../ui/field';
import { PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { toast } from '../ui/toast';

/** An origin exactly as browsers send it (what the API accepts): scheme, host, optional port. */
export function originProblem(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https:// (or http:// for local development)';
    if (url.origin !== value) return `must be just the origin, like ${url.origin}: no path, query or trailing slash`;
    return null;
  } catch {
    return 'is not a URL: write it like https://app.example.com';
  }
}

export function Settings() {
  const tenant = useResource(() => api.tenant(), []);
  return (
    <>
      <PageHeader title="General" description="Your tenant's name, where the widget may run, and how it looks." />
      <Loaded resource={tenant} what="the settings">
        {(t) => (
          <>
            <NameCard tenant={t} onSaved={(next) => (tenant.data.value = next)} />
            <OriginsCard tenant={t} onSaved={(next) => (tenant.data.value = next)} />
            <ThemeCard tenant={t} onSaved={(next) => (tenant.data.value = next)} />
            <TokenCapCard tenant={t} onSaved={(next) => (tenant.data.value = next)} />
          </>
        )}
      </Loaded>
    </>
  );
}

function NameCard({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const editable = can('admin');
  const name = useSignal(tenant.name);
  const error = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  async function save(event: Event) {
    event.preventDefault();
    if (!name.value.trim()) {
      error.value = 'The tenant needs a name.';
      return;
    }
    busy.value = true;
    error.value = undefined;
    try {
      onSaved(await api.updateTenant({ name: name.value.trim() }));
      toast('Name saved');
    } catch (caught) {
      error.value = caught instanceof ApiError ? (caught.fieldErrors.name ?? caught.message) : messageOf(caught);
    } finally {
      busy.value = false;
    }
  }
  return (
    <section class="card" aria-labelledby="name-title">
      <h2 id="name-title" class="card-title">
        Tenant
      </h2>
      <form class="inline-form" onSubmit={save} noValidate>
        <TextField
          label="Name"
          name="tenantName"
          value={name.value}
          onValue={(v) => (name.value = v)}
          error={error.value}
          maxLength={200}
          class="grow"
          hint="Shown to your team here and to your customers in the widget."
        />
        {editable && (
          <button type="submit" class="btn btn-secondary" disabled={busy.value || name.value === tenant.name}>
            {busy.value ? 'Saving…' : 'Save name'}
          </button>
        )}
      </form>
    </section>
  );
}

/** The cap as typed: digits, with thousands separators (`1,000,000`, `1 000 000`, `1_000_000`) allowed; '' is no cap. */
export function parseTokenCap(text: string): { value: number | null } | { problem: string } {
  const digits = text.trim().replace(/[\s,_.'’]/g, '');
  if (digits === '') return { value: null };
  if (!/^\d+$/.test(digits)) return { problem: 'Write a whole number of tokens, like 2000000, or leave it empty for no cap.' };
  const value = Number(digits);
  if (value > 1e15) return { problem: 'That is more than any month could use: at most 1,000,000,000,000,000.' };
  return { value };
}

const grouped = new Intl.NumberFormat('en-US');
const capText = (cap: number | null) => (cap === null ? '' : String(cap));

function TokenCapCard({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const editable = can('admin');
  const cap = useSignal(capText(tenant.monthlyTokenCap));
  const error = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const parsed = parseTokenCap(cap.value);
  const unchanged = 'value' in parsed && parsed.value === tenant.monthlyTokenCap;
  async function save(event: Event) {
    event.preventDefault();
    const next = parseTokenCap(cap.value);
    if ('problem' in next) {
      error.value = next.problem;
      return;
    }
    busy.value = true;
    error.value = undefined;
    try {
      const saved = await api.updateTenant({ monthlyTokenCap: next.value });
      cap.value = capText(saved.monthlyTokenCap);
      onSaved(saved);
      toast(saved.monthlyTokenCap === null ? 'No monthly token cap' : `Monthly token cap set to ${grouped.format(saved.monthlyTokenCap)}`);
    } catch (caught) {
      error.value = caught instanceof ApiError ? (caught.fieldErrors.monthlyTokenCap ?? caught.message) : messageOf(caught);
    } finally {
      busy.value = false;
    }
  }
  return (
    <section class="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title" class="card-title">
        AI agents
      </h2>
      <p class="muted card-lede">
        Agent steps call AI models, which count tokens. A cap stops agent steps from starting new model calls once the tenant has used that many tokens in the calendar month (UTC);
        they fail with <code>token_cap_reached</code> until the month ends or the cap is raised.
      </p>
      <form class="inline-form" onSubmit={save} noValidate>
        <TextField
          label="Monthly AI token cap"
          name="monthlyTokenCap"
          inputMode="numeric"
          autoComplete="off"
          placeholder="No cap"
          value={cap.value}
          onValue={(v) => {
            cap.value = v;
            error.value = undefined;
          }}
          error={error.value}
          class="grow"
          hint={
            'value' in parsed && parsed.value !== null
              ? `${grouped.format(parsed.value)} tokens a month. Empty: no cap.`
              : 'Tokens a month, for all agent steps together. Empty: no cap.'
          }
        />
        {editable && (
          <button type="submit" class="btn btn-secondary" disabled={busy.value || unchanged}>
            {busy.value ? 'Saving…' : 'Save cap'}
          </button>
        )}
      </form>
    </section>
  );
}

function OriginsCard({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const editable = can('admin');
  const origins = useSignal<string[]>(tenant.allowedOrigins);
  const adding = useSignal('');
  const addError = useSignal<string | undefined>(undefined);
  const saveError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const removing = useSignal<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  async function save(next: string[], message: string) {
    busy.value = true;
    saveError.value = null;
    try {
      const saved = await api.updateTenant({ allowedOrigins: next });
      origins.value = saved.allowedOrigins;
      onSaved(saved);
      toast(message);
      return true;
    } catch (caught) {
      saveError.value = messageOf(caught);
      return false;
    } finally {
      busy.value = false;
    }
  }

  async function add(event: Event) {
    event.preventDefault();
    const value = adding.value.trim();
    const problem = value ? originProblem(value) : 'Type the origin of a page that embeds the widget, like https://app.example.com.';
    if (problem) {
      addError.value = value ? `${value} ${problem}` : problem;
      input.current?.focus();
      return;
    }
    if (origins.value.includes(value)) {
      addError.value = `${value} is in the list already.`;
      input.current?.focus();
      return;
    }
    addError.value = undefined;
    if (await save([...origins.value, value], `Added ${value}`)) adding.value = '';
  }

  return (
    <section class="card" aria-labelledby="origins-title">
      <h2 id="origins-title" class="card-title">
        Allowed origins
      </h2>
      <p class="muted card-lede">
        The widget runs, and the connect popup reports back, only on these origins. Add each place your product runs: production, staging, local development.
      </p>
      {saveError.value && (
        <Alert tone="error" title="Not saved" onDismiss={() => (saveError.value = null)}>
          {saveError.value}
        </Alert>
      )}
      {origins.value.length === 0 ? (
        <p class="origins-empty">No origins yet: the widget will refuse to open anywhere until you add one.</p>
      ) : (
        <ul class="origin-list">
          {origins.value.map((origin) => (
            <li key={origin}>
              <code>{origin}</code>
              {editable && (
                <button
                  type="button"
                  class="btn btn-danger-quiet btn-small"
                  aria-label={`Remove ${origin}`}
                  disabled={busy.value}
                  onClick={() => {
                    saveError.value = null;
                    removing.value = origin;
                  }}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editable && (
        <form class="inline-form" onSubmit={add} noValidate>
          <TextField
            label="Add an origin"
            name="origin"
            placeholder="https://app.example.com"
            autoComplete="off"
            spellcheck={false}
            value={adding.value}
            onValue={(v) => (adding.value = v)}
            error={addError.value}
            inputRef={input}
            class="grow"
          />
          <button type="submit" class="btn btn-secondary" disabled={busy.value}>
            Add origin
          </button>
        </form>
      )}
      {removing.value && (
        <ConfirmDialog
          title={`Remove ${removing.value}?`}
          confirmLabel="Remove origin"
          busy={busy.value}
          error={saveError.value}
          onConfirm={async () => {
            const origin = removing.value!;
            if (
              await save(
                origins.value.filter((o) => o !== origin),
                `Removed ${origin}`,
              )
            )
              removing.value = null;
          }}
          onCancel={() => (removing.value = null)}
        >
          <p>The widget stops opening on pages of this origin, and connect popups stop reporting back to it.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const DEFAULT_THEME: Required<WidgetTheme> = { mode: 'auto', accent: '#4f46e5', radius: '10px', font: 'system-ui, sans-serif' };

/** Client-side checks matching the API's, so mistakes show as you type. */
function themeProblems(theme: Required<WidgetTheme>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(theme.accent)) out.accent = 'must be a hex colour like #4f46e5';
  const radius = /^(\d+(?:\.\d+)?)(px|rem|em)?$/.exec(theme.radius.trim());
  if (!radius || (radius[2] !== 'px' && radius[1] !== '0') || Number(radius[1]) > 32) out.radius = 'must be a length up to 32px, like 8px';
  if (!theme.font.trim() || /[;{}<>]/.test(theme.font)) out.font = 'must be a font-family list, like Inter, sans-serif (no ; { } < >)';
  return out;
}

/** WCAG contrast ratio of white text on a #rrggbb colour. */
export function contrastOnWhite(hex: string): number | null {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!match) return null;
  const channel = (i: number) => {
    const c = parseInt(match[1].slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  return 1.05 / (luminance + 0.05);
}

interface PreviewGlobal {
  (command: 'preview', options: { container: Element; theme: WidgetTheme }): unknown;
}

type PreviewState = 'loading' | 'ready' | 'unavailable';
let loaderPromise: Promise<boolean> | null = null;

/** Loads the widget's loader script (same origin, so the portal's CSP allows it). False if this server has no widget. */
function loadWidget(): Promise<boolean> {
  loaderPromise ??= new Promise<boolean>((resolve) => {
    const script = document.createElement('script');
    script.src = '/embed/v1/loader.js';
    script.async = true;
    script.onload = () => resolve(typeof (window as unknown as { Switchboard?: unknown }).Switchboard === 'function');
    script.onerror = () => resolve(false);
    document.head.appendChild(script);
  });
  return loaderPromise;
}

function accentHint(accent: string): string | undefined {
  const ratio = contrastOnWhite(accent);
  if (ratio === null || ratio >= 4.5) return 'Buttons, links and selected items use it; white text goes on top.';
  return `Hard to read: white text on this colour has a contrast of ${ratio.toFixed(1)}:1. Pick a darker shade (4.5:1 or more).`;
}

function ThemeCard({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const editable = can('admin');
  const stored = { ...DEFAULT_THEME, ...tenant.widgetTheme };
  const theme = useSignal<Required<WidgetTheme>>(stored);
  const serverErrors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const preview = useSignal<PreviewState>('loading');
  const container = useRef<HTMLDivElement>(null);

  const problems = themeProblems(theme.value);
  const errors = { ...serverErrors.value, ...problems };
  const changed = JSON.stringify(theme.value) !== JSON.stringify(stored);

  useEffect(() => {
    let alive = true;
    void loadWidget().then((ok) => alive && (preview.value = ok ? 'ready' : 'unavailable'));
    return () => {
      alive = false;
    };
  }, []);

  // Redraw the preview (in a fresh element: a shadow root cannot be attached twice) a moment after a change.
  useEffect(() => {
    if (preview.value !== 'ready' || Object.keys(problems).length) return;
    const timer = setTimeout(() => {
      const host = container.current;
      const switchboard = (window as unknown as { Switchboard?: PreviewGlobal }).Switchboard;
      if (!host || !switchboard) return;
      const target = document.createElement('div');
      host.replaceChildren(target);
      try {
        switchboard('preview', { container: target, theme: theme.value });
      } catch {
        preview.value = 'unavailable';
      }
    }, 150);
    return () => clearTimeout(timer);
  }, [preview.value, JSON.stringify(theme.value)]);

  function set<K extends keyof WidgetTheme>(key: K, value: Required<WidgetTheme>[K]) {
    theme.value = { ...theme.value, [key]: value };
    if (serverErrors.value[key]) serverErrors.value = { ...serverErrors.value, [key]: '' };
  }

  async function save(event: Event) {
    event.preventDefault();
    if (Object.keys(problems).length) return;
    busy.value = true;
    formError.value = null;
    serverErrors.value = {};
    try {
      const saved = await api.updateTenant({ widgetTheme: { ...theme.value, radius: theme.value.radius.trim(), font: theme.value.font.trim() } });
      onSaved(saved);
      toast('Widget theme saved');
    } catch (caught) {
      if (caught instanceof ApiError) {
        serverErrors.value = Object.fromEntries(Object.entries(caught.fieldErrors).map(([path, message]) => [path.replace(/^widgetTheme\./, ''), message]));
        formError.value = caught.message;
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card" aria-labelledby="theme-title">
      <h2 id="theme-title" class="card-title">
        Widget theme
      </h2>
      <p class="muted card-lede">How the widget looks inside your product. Your page can still override it when it opens the widget.</p>
      {formError.value && (
        <Alert tone="error" title="Not saved">
          {formError.value}
        </Alert>
      )}
      <div class="theme-editor">
        <form onSubmit={save} noValidate class="theme-form">
          <fieldset class="plain-fieldset" disabled={!editable || busy.value}>
            <legend class="sr-only">Theme</legend>
            <Field label="Colour scheme">
              {(aria) => (
                <select {...aria} name="mode" value={theme.value.mode} onChange={(e) => set('mode', e.currentTarget.value as WidgetTheme['mode'] & string)}>
                  <option value="auto">Follow the visitor's system</option>
                  <option value="light">Light</option>
                  <option value="dark">Dark</option>
                </select>
              )}
            </Field>
            <Field label="Accent colour" error={errors.accent || undefined} hint={accentHint(theme.value.accent)}>
              {(aria) => (
                <span class="color-row">
                  <input
                    type="color"
                    class="color-swatch"
                    aria-label="Pick the accent colour"
                    value={/^#[0-9a-fA-F]{6}$/.test(theme.value.accent) ? theme.value.accent : '#000000'}
                    onInput={(e) => set('accent', e.currentTarget.value)}
                  />
                  <input {...aria} name="accent" class="mono" spellcheck={false} value={theme.value.accent} onInput={(e) => set('accent', e.currentTarget.value.trim())} />
                </span>
              )}
            </Field>
            <TextField
              label="Corner radius"
              name="radius"
              value={theme.value.radius}
              onValue={(v) => set('radius', v)}
              error={errors.radius || undefined}
              hint="0px for square corners, up to 32px."
            />
            <TextField
              label="Font"
              name="font"
              value={theme.value.font}
              onValue={(v) => set('font', v)}
              error={errors.font || undefined}
              hint="A CSS font-family list; the fonts must be loaded by your page."
            />
          </fieldset>
          {editable && (
            <div class="form-actions">
              <button type="button" class="btn btn-secondary" disabled={!changed || busy.value} onClick={() => ((theme.value = stored), (serverErrors.value = {}))}>
                Reset
              </button>
              <button type="submit" class="btn btn-primary" disabled={!changed || busy.value || Object.keys(problems).length > 0}>
                {busy.value ? 'Saving…' : 'Save theme'}
              </button>
            </div>
          )}
        </form>
        <div class="theme-preview" aria-labelledby="preview-title">
          <div class="theme-preview-head">
            <h3 id="preview-title" class="form-section-title">
              Preview
            </h3>
            {preview.value === 'ready' && <Badge tone="accent">Live</Badge>}
          </div>
          {preview.value === 'loading' && <p class="muted small">Loading the widget…</p>}
          {/* Filled by the widget itself, never by Preact. */}
          <div class="theme-preview-stage" ref={container} data-preview={preview.value} />
          {preview.value === 'unavailable' && <p class="muted small preview-fallback">The widget is not available on this server, so there is no live preview yet.</p>}
        </div>
      </div>
    </section>
  );
}
