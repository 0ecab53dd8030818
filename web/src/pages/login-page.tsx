// Log in with a user name and password; the server sets the session cookie.

import { useState } from 'preact/hooks';
import { ApiError, type ApiClient } from '../api/api-client';
import { useTitle } from '../app-context';
import { Link } from '../components/link';

export function LoginPage({
  api,
  message,
  setupRequired,
  onLoggedIn,
}: {
  api: ApiClient;
  message: string | null;
  setupRequired: boolean;
  onLoggedIn: () => void;
}) {
  useTitle('Log in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/auth/login', { username, password });
      setPassword('');
      onLoggedIn();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'INVALID_CREDENTIALS') {
        setError('Wrong user name or password.');
      } else if (err instanceof ApiError && err.code === 'RATE_LIMITED') {
        setError('Too many failed attempts. Wait a few minutes, then try again.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="auth-page">
      <form class="auth-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <p class="auth-brand">
          <img src="/favicon.svg" alt="" width="32" height="32" /> Command Center
        </p>
        <h1 id="login-title">Log in</h1>
        {message ? (
          <p class="callout info" role="status">
            {message}
          </p>
        ) : null}
        {setupRequired ? (
          <p class="callout warning">
            No administrator exists yet. Open the one-time setup link the server printed when it
            started (<code>https://…/setup#token=…</code>). Lost it? Restart the server: it prints a
            new one.
          </p>
        ) : null}
        <label for="login-username">User name</label>
        <input
          id="login-username"
          name="username"
          autocomplete="username"
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error ? (
          <p class="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="muted small">
          Scripts and integrations use API tokens: see{' '}
          <Link href="/api/docs">the API documentation</Link>.
        </p>
      </form>
    </main>
  );
}
