// Accepting an invitation (https://host:port/invite#token=…): choose a user name (unless the
// invitation fixed one) and a password; the account is created with the invitation's role and
// sites, and logged in. The token is in the fragment, so it never reaches a log; the app takes it
// out of the address bar at once and keeps it in memory only (as the setup page does).

import { useState } from 'preact/hooks';
import { ApiError, type ApiClient } from '../api/api-client';
import { useTitle } from '../app-context';
import { Link } from '../components/link';
import { passwordProblem } from './setup-page';

export function InvitePage({
  api,
  token,
  onDone,
}: {
  api: ApiClient;
  token: string | null;
  onDone: () => void;
}) {
  useTitle('Accept an invitation');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<{ text: string; login?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    if (!token) return;
    const problem = passwordProblem(username, password, confirm);
    if (problem) {
      setError({ text: problem });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/invites/accept', { token, username, password });
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'INVITE_EXPIRED') {
        setError({ text: err.message, login: true });
      } else if (err instanceof ApiError && err.code === 'INVITE_INVALID') {
        setError({
          text: 'This invitation link is not valid. Ask your administrator for a new one.',
        });
      } else {
        setError({ text: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="auth-page">
      <form class="auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="invite-title">
        <p class="auth-brand">
          <img src="/favicon.svg" alt="" width="32" height="32" /> Command Center
        </p>
        <h1 id="invite-title">Create your account</h1>
        {token ? (
          <p class="muted">
            You were invited to Command Center. Choose your user name and a password; your role and
            sites were set by the administrator who invited you.
          </p>
        ) : (
          <p class="callout warning" role="alert">
            This page needs the invitation link you were sent (<code>https://…/invite#token=…</code>
            ). Open that link exactly as sent. <Link href="/login">Log in</Link> if you have an
            account.
          </p>
        )}
        <label for="invite-username">User name</label>
        <input
          id="invite-username"
          name="username"
          autocomplete="username"
          required
          maxLength={64}
          pattern="[A-Za-z0-9][A-Za-z0-9._@\-]*"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="invite-password">Password</label>
        <input
          id="invite-password"
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          aria-describedby="invite-password-hint"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="invite-password-hint" class="muted small">
          At least 12 characters; a passphrase of several words is easy to type and hard to guess.
        </p>
        <label for="invite-confirm">Repeat the password</label>
        <input
          id="invite-confirm"
          name="confirm"
          type="password"
          autocomplete="new-password"
          required
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
        />
        {error ? (
          <p class="form-error" role="alert">
            {error.text} {error.login ? <Link href="/login">Log in</Link> : null}
          </p>
        ) : null}
        <button type="submit" class="button primary" disabled={busy || !token}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
