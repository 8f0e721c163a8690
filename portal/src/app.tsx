import { useEffect } from 'preact/hooks';
import { route } from './router';
import { AcceptInvite } from './screens/accept-invite';
import { NoTenant, Shell } from './screens/shell';
import { SignIn } from './screens/sign-in';
import { loadSession, session } from './session';
import { Spinner } from './ui/alert';

export function App() {
  useEffect(() => {
    if (route.peek().name !== 'accept-invite') void loadSession();
  }, []);

  const current = session.value;
  if (route.value.name === 'accept-invite') return <AcceptInvite />;
  if (current.status === 'loading') {
    // One request; the spinner fades in only if it is slow (see .boot in styles.css).
    return (
      <div class="boot">
        <Spinner label="Loading Switchboard…" />
      </div>
    );
  }
  if (current.status === 'signed-out') return <SignIn notice={current.notice} />;
  if (!current.me.activeTenantId) return <NoTenant me={current.me} />;
  return <Shell me={current.me} />;
}
