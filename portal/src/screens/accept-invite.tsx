import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api';
import { navigate } from '../router';
import { signedIn } from '../session';
import { Alert } from '../ui/alert';
import { TextField } from '../ui/field';
import { Logo } from '../ui/logo';

/** The invitation token travels in the URL fragment, which browsers never send to a server. */
function tokenFromHash(): string | null {
  return new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
}

export function AcceptInvite() {
  const token = useSignal(tokenFromHash());
  const name = useSignal('');
  const password = useSignal('');
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fieldErrors = useSignal<Record<string, string>>({});

  useEffect(() => {
    document.title = 'Accept invitation · Switchboard';
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    if (!token.value || busy.value) return;
    busy.value = true;
    error.value = null;
    fieldErrors.value = {};
    try {
      const me = await api.acceptInvite(token.value, password.value || undefined, name.value.trim() || undefined);
      signedIn(me);
      navigate('home', { replace: true });
    } catch (caught) {
      const fields = caught instanceof ApiError ? caught.fieldErrors : {};
      if (fields.password || fields.name) fieldErrors.value = fields;
      else error.value = messageOf(caught);
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
        <h1>Join your team</h1>
        {!token.value ? (
          <Alert tone="error" title="This invitation link is incomplete">
            Open the full link you were sent, or ask for a new invitation.
          </Alert>
        ) : (
          <>
            <p class="muted auth-lede">
              Choose a password to create your account. If you already have a Switchboard account, leave it empty: accepting signs you in.
            </p>
            {error.value && <Alert tone="error">{error.value}</Alert>}
            <form onSubmit={submit} noValidate aria-label="Accept invitation">
              <TextField label="Your name" optional name="name" autoComplete="name" value={name.value} onValue={(v) => (name.value = v)} error={fieldErrors.value.name} />
              <TextField
                label="Password"
                type="password"
                name="password"
                autoComplete="new-password"
                hint="At least 10 characters."
                value={password.value}
                onValue={(v) => (password.value = v)}
                error={fieldErrors.value.password}
              />
              <button type="submit" class="btn btn-primary btn-block" disabled={busy.value}>
                {busy.value ? 'Joining…' : 'Accept invitation'}
              </button>
            </form>
          </>
        )}
        <p class="auth-footer muted">
          <a href="/portal/">Go to sign-in</a>
        </p>
      </main>
    </div>
  );
}
