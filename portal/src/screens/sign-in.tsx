import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, messageOf } from '../api';
import { formatWait } from '../format';
import { signIn } from '../session';
import { Alert } from '../ui/alert';
import { TextField } from '../ui/field';
import { Logo } from '../ui/logo';

export function SignIn({ notice }: { notice?: string | undefined }) {
  const email = useSignal('');
  const password = useSignal('');
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fieldErrors = useSignal<Record<string, string>>({});
  /** When a lockout (429) ends, in epoch ms. */
  const lockedUntil = useSignal<number | null>(null);
  const now = useSignal(Date.now());
  const emailInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Switchboard';
    emailInput.current?.focus();
  }, []);

  // Count the lockout down once a second, and lift it when it ends.
  useEffect(() => {
    if (lockedUntil.value === null) return;
    const timer = setInterval(() => {
      now.value = Date.now();
      if (lockedUntil.value !== null && now.value >= lockedUntil.value) {
        lockedUntil.value = null;
        error.value = null;
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [lockedUntil.value]);

  const remaining = lockedUntil.value === null ? 0 : (lockedUntil.value - now.value) / 1000;
  const locked = lockedUntil.value !== null && remaining > 0;

  async function submit(event: Event) {
    event.preventDefault();
    if (busy.value || locked) return;
    busy.value = true;
    error.value = null;
    fieldErrors.value = {};
    try {
      await signIn(email.value.trim(), password.value);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 429) {
        // Retry-After, else the envelope's details, else a minute.
        const seconds = caught.retryAfterSeconds ?? (Number(caught.details.retryAfterSeconds) || 60);
        now.value = Date.now();
        lockedUntil.value = now.value + seconds * 1000;
      } else if (caught instanceof ApiError && caught.code === 'validation_failed' && Object.keys(caught.fieldErrors).length > 0) {
        fieldErrors.value = caught.fieldErrors;
        (caught.fieldErrors.email ? emailInput : passwordInput).current?.focus();
      } else {
        error.value = messageOf(caught);
        if (caught instanceof ApiError && caught.code === 'invalid_credentials') {
          password.value = '';
          passwordInput.current?.focus();
        }
      }
    } finally {
      busy.value = false;
    }
  }

  return (
    <div class="auth-page">
      <main class="auth-card">
        <div class="auth-brand">
          <Logo size={36} />
          <span>Switchboard</span>
        </div>
        <h1>Sign in</h1>
        <p class="muted auth-lede">Manage your team's API keys, members and audit log.</p>
        {notice && !error.value && !locked && <Alert tone="info">{notice}</Alert>}
        {locked && (
          <Alert tone="warning" title="Too many failed attempts">
            Sign-in for this account is paused. Try again in <strong class="nowrap">{formatWait(remaining)}</strong>.
          </Alert>
        )}
        {error.value && !locked && <Alert tone="error">{error.value}</Alert>}
        <form onSubmit={submit} noValidate aria-label="Sign in">
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            inputMode="email"
            spellcheck={false}
            value={email.value}
            onValue={(v) => (email.value = v)}
            error={fieldErrors.value.email}
            inputRef={emailInput}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            value={password.value}
            onValue={(v) => (password.value = v)}
            error={fieldErrors.value.password}
            inputRef={passwordInput}
          />
          <button type="submit" class="btn btn-primary btn-block" disabled={busy.value || locked} aria-disabled={busy.value || locked}>
            {busy.value ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="auth-footer muted">Need access? Ask your team's admin for an invite.</p>
      </main>
    </div>
  );
}
