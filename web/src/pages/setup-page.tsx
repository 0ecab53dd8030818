// First start: create the first administrator with the one-time token from the setup link
// (https://host:port/setup#token=…). The token is in the fragment, so it never reaches a log; the
// page takes it out of the address bar at once and keeps it in memory only.

import { useState } from 'preact/hooks';
import { ApiError, type ApiClient } from '../api/api-client';
import { useTitle } from '../app-context';
import { Link } from '../components/link';

export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && token.length > 0 ? token : null;
}

/** The same rules the server applies (docs/api.md), checked before sending. */
export function passwordProblem(
  username: string,
  password: string,
  confirm: string,
): string | null {
  if (password.length < 12) return 'The password needs at least 12 characters.';
  if (new Set(password).size === 1) return 'The password must not repeat a single character.';
  if (password === username) return 'The password must not be the user name.';
  if (password !== confirm) return 'The two passwords differ.';
  return null;
}

export function SetupPage({
  api,
  token,
  onDone,
}: {
  api: ApiClient;
  token: string | null;
  onDone: () => void;
}) {
  useTitle('Create the first administrator');
  const [username, setUsername] = useState('admin');
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
      await api.post('/api/v1/setup', { token, username, password });
      await api.post('/api/v1/auth/login', { username, password });
      onDone();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'SETUP_TOKEN_INVALID') {
        setError({
          text: 'This setup link is invalid or has expired. Restart the server to print a new one.',
        });
      } else if (err instanceof ApiError && err.code === 'SETUP_ALREADY_DONE') {
        setError({ text: 'An administrator already exists.', login: true });
      } else {
        setError({ text: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="auth-page">
      <form class="auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="setup-title">
        <p class="auth-brand">
          <img src="/favicon.svg" alt="" width="32" height="32" /> Command Center
        </p>
        <h1 id="setup-title">Create the first administrator</h1>
        {token ? (
          <p class="muted">
            This one-time link was printed by the server at start-up. The administrator then adds
            the other users.
          </p>
        ) : (
          <p class="callout warning" role="alert">
            This page needs the one-time link the server printed at start-up (
            <code>https://…/setup#token=…</code>). Open that link exactly as printed, or restart the
            server to print a new one. <Link href="/login">Log in</Link> if an administrator exists.
          </p>
        )}
        <label for="setup-username">User name</label>
        <input
          id="setup-username"
          name="username"
          autocomplete="username"
          required
          maxLength={64}
          pattern="[A-Za-z0-9][A-Za-z0-9._@\-]*"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="setup-password">Password</label>
        <input
          id="setup-password"
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={12}
          aria-describedby="setup-password-hint"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <p id="setup-password-hint" class="muted small">
          At least 12 characters; a passphrase of several words is easy to type and hard to guess.
        </p>
        <label for="setup-confirm">Repeat the password</label>
        <input
          id="setup-confirm"
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
          {busy ? 'Creating…' : 'Create administrator'}
        </button>
      </form>
    </main>
  );
}
