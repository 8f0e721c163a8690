import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, ApiError, messageOf, type Invitation } from '../api';
import { navigate } from '../router';
import { signedIn } from '../session';
import { Alert, Spinner } from '../ui/alert';
import { TextField } from '../ui/field';
import { Logo } from '../ui/logo';

/** The invitation token travels in the URL fragment, which browsers never send to a server. */
function tokenFromHash(): string | null {
  return new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
}

/**
 * Accepting an invitation. The token alone never signs anyone in: a new person chooses a password;
 * someone who already has an account accepts signed in as it, or with its password.
 */
export function AcceptInvite() {
  const token = useSignal(tokenFromHash());
  const invitation = useSignal<Invitation | null>(null);
  const loadError = useSignal<string | null>(null);
  const name = useSignal('');
  const password = useSignal('');
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const fieldErrors = useSignal<Record<string, string>>({});

  useEffect(() => {
    document.title = 'Accept invitation · Switchboard';
    if (!token.value) return;
    api.lookupInvitation(token.value).then(
      (found) => (invitation.value = found),
      (caught) => (loadError.value = messageOf(caught)),
    );
  }, []);

  async function accept(event: Event) {
    event.preventDefault();
    const current = invitation.value;
    if (!token.value || !current || busy.value) return;
    busy.value = true;
    error.value = null;
    fieldErrors.value = {};
    try {
      const withPassword = !current.signedInAsInvitee;
      const me = await api.acceptInvite(token.value, withPassword ? password.value : undefined, current.accountExists ? undefined : name.value.trim() || undefined);
      signedIn(me);
      navigate('home', { replace: true });
    } catch (caught) {
      const fields = caught instanceof ApiError ? caught.fieldErrors : {};
      if (fields.password || fields.name) fieldErrors.value = fields;
      else if (caught instanceof ApiError && caught.code === 'invalid_credentials') fieldErrors.value = { password: 'This is not the password of that account.' };
      else error.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  const current = invitation.value;
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
        ) : loadError.value ? (
          <Alert tone="error" title="This invitation cannot be used">
            {loadError.value}
          </Alert>
        ) : !current ? (
          <Spinner label="Loading the invitation…" />
        ) : (
          <>
            <p class="muted auth-lede">
              You are invited to <strong>{current.tenantName}</strong> as {current.role}, as <strong>{current.email}</strong>.{' '}
              {current.signedInAsInvitee
                ? 'You are signed in as this account.'
                : current.accountExists
                  ? 'This email already has a Switchboard account: enter its password to accept.'
                  : 'Choose a password to create your account.'}
            </p>
            {error.value && <Alert tone="error">{error.value}</Alert>}
            <form onSubmit={accept} noValidate aria-label="Accept invitation">
              {!current.accountExists && (
                <TextField label="Your name" optional name="name" autoComplete="name" value={name.value} onValue={(v) => (name.value = v)} error={fieldErrors.value.name} />
              )}
              {/* A username field lets password managers offer the right saved password. */}
              <input type="hidden" name="email" autoComplete="username" value={current.email} />
              {!current.signedInAsInvitee && (
                <TextField
                  label={current.accountExists ? 'Password of your account' : 'Password'}
                  type="password"
                  name="password"
                  autoComplete={current.accountExists ? 'current-password' : 'new-password'}
                  hint={current.accountExists ? undefined : 'At least 10 characters.'}
                  value={password.value}
                  onValue={(v) => (password.value = v)}
                  error={fieldErrors.value.password}
                />
              )}
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
