// The root of the dashboard: finds out who is logged in, shows login or setup when nobody is,
// opens the live stream for a session, and picks the page for the URL.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createApiClient } from './api/api-client';
import type { Me, ServerInfo } from './api/types';
import { AppContext, type AppContextValue, type NoticeKind } from './app-context';
import { AppShell } from './components/app-shell';
import { StorageBanner } from './components/storage-banner';
import { Notices, type Notice } from './components/notices';
import { FleetStore } from './live/fleet-store';
import {
  openStreamConnection,
  type ConnectionStatus,
  type StreamConnection,
} from './live/stream-connection';
import { AdminPage } from './pages/admin-pages';
import { AlertsPage } from './pages/alerts-page';
import { AuditPage } from './pages/audit-page';
import { DevicePage } from './pages/device-page';
import { FleetPage } from './pages/fleet-page';
import { InvitePage } from './pages/invite-page';
import { JobsPage } from './pages/jobs-page';
import { LoginPage } from './pages/login-page';
import { NotFoundPage } from './pages/not-found-page';
import { SetupPage, tokenFromHash } from './pages/setup-page';
import { UsersPage } from './pages/users-page';
import { WallPage } from './pages/wall-page';
import { matchRoute, navigate, useLocation, type Route } from './router';

type Phase =
  { name: 'loading' } | { name: 'anonymous'; message: string | null } | { name: 'session'; me: Me };

const EXPIRED_MESSAGE = 'Your session has ended. Log in again to continue.';

function homeOf(me: Me): string {
  return me.user.role === 'dashboard' ? '/wall' : '/fleet';
}

/** Where to go after login: the page the user asked for, if it is one of ours. */
function nextPath(search: string): string | null {
  const next = new URLSearchParams(search).get('next');
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')
    ? next
    : null;
}

export function App() {
  const location = useLocation();
  const route = matchRoute(location.pathname);
  const [phase, setPhase] = useState<Phase>({ name: 'loading' });
  const [setupRequired, setSetupRequired] = useState(false);
  const [connection, setConnection] = useState<ConnectionStatus>({ state: 'closed' });
  const [notices, setNotices] = useState<Notice[]>([]);
  const [setupToken] = useState(() => tokenFromHash(window.location.hash));
  const stream = useRef<StreamConnection | null>(null);
  const noticeId = useRef(0);
  const fleet = useMemo(() => new FleetStore(), []);

  const sessionLost = useCallback(
    (message: string) => {
      stream.current?.close();
      stream.current = null;
      fleet.reset();
      setPhase({ name: 'anonymous', message });
      const here = `${window.location.pathname}${window.location.search}`;
      if (matchRoute(window.location.pathname).name !== 'login') {
        navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true });
      }
    },
    [fleet],
  );

  const api = useMemo(
    () => createApiClient({ onUnauthenticated: () => sessionLost(EXPIRED_MESSAGE) }),
    [sessionLost],
  );

  const loadSession = useCallback(async (): Promise<void> => {
    try {
      const me = await api.get<Me>('/api/v1/auth/me');
      setPhase({ name: 'session', me });
    } catch (err) {
      setPhase({
        name: 'anonymous',
        message: err instanceof ApiError && err.status === 401 ? null : String(err),
      });
      api.get<ServerInfo>('/api/v1/info').then(
        (info) => setSetupRequired(info.setupRequired === true),
        () => undefined,
      );
    }
  }, [api]);

  // The setup (or invitation) token is read once above; the address bar should not keep showing it.
  useEffect(() => {
    if (setupToken)
      history.replaceState(null, '', window.location.pathname + window.location.search);
    if (route.name === 'setup' || route.name === 'invite') {
      setPhase({ name: 'anonymous', message: null });
    } else void loadSession();
    // Only at start-up: later changes of session go through loadSession and sessionLost.
  }, []);

  // A session gets its live stream; it is closed when the session ends.
  const me = phase.name === 'session' ? phase.me : null;
  useEffect(() => {
    if (!me) return;
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const connection = openStreamConnection({
      url: `${scheme}://${window.location.host}/api/v1/stream`,
      onMessage: (message) => fleet.apply(message),
      onStatus: setConnection,
      onSessionLost: () => sessionLost(EXPIRED_MESSAGE),
      sessionValid: () =>
        api.get<Me>('/api/v1/auth/me').then(
          () => true,
          (err: unknown) => !(err instanceof ApiError && err.status === 401),
        ),
    });
    stream.current = connection;
    const online = (): void => connection.reconnectNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      connection.close();
      if (stream.current === connection) stream.current = null;
    };
  }, [me, api, fleet, sessionLost]);

  // Routes that need (or refuse) a session.
  useEffect(() => {
    const open = route.name === 'login' || route.name === 'setup' || route.name === 'invite';
    if (phase.name === 'anonymous' && !open) {
      const here = `${location.pathname}${location.search}`;
      navigate(route.name === 'home' ? '/login' : `/login?next=${encodeURIComponent(here)}`, {
        replace: true,
      });
    }
    if (
      phase.name === 'session' &&
      (route.name === 'login' ||
        route.name === 'home' ||
        route.name === 'setup' ||
        route.name === 'invite')
    ) {
      navigate(nextPath(location.search) ?? homeOf(phase.me), { replace: true });
    }
  }, [phase, route.name, location]);

  const notify = useCallback((text: string, kind: NoticeKind = 'info') => {
    noticeId.current += 1;
    const id = noticeId.current;
    setNotices((list) => [...list.slice(-3), { id, text, kind }]);
    setTimeout(
      () => setNotices((list) => list.filter((n) => n.id !== id)),
      kind === 'error' ? 10_000 : 6000,
    );
  }, []);

  const logout = useCallback(() => {
    void api.post('/api/v1/auth/logout').finally(() => {
      stream.current?.close();
      stream.current = null;
      fleet.reset();
      setPhase({ name: 'anonymous', message: 'You are logged out.' });
      navigate('/login', { replace: true });
    });
  }, [api, fleet]);

  const context = useMemo<AppContextValue | null>(
    () =>
      me
        ? {
            api,
            me,
            fleet,
            connection,
            can: (permission) => me.permissions.includes(permission),
            notify,
            logout,
            reconnect: () => stream.current?.reconnectNow(),
          }
        : null,
    [api, me, fleet, connection, notify, logout],
  );

  const noticeArea = (
    <Notices
      notices={notices}
      onDismiss={(id) => setNotices((l) => l.filter((n) => n.id !== id))}
    />
  );

  if (route.name === 'setup' && phase.name !== 'session') {
    return <SetupPage api={api} token={setupToken} onDone={() => void loadSession()} />;
  }
  if (route.name === 'invite' && phase.name !== 'session') {
    return <InvitePage api={api} token={setupToken} onDone={() => void loadSession()} />;
  }
  if (phase.name === 'loading') {
    return (
      <main id="main" class="auth-page" aria-busy="true">
        <p class="muted">Loading Command Center…</p>
      </main>
    );
  }
  if (phase.name === 'anonymous' || !context) {
    return (
      <LoginPage
        api={api}
        message={phase.name === 'anonymous' ? phase.message : null}
        setupRequired={setupRequired}
        onLoggedIn={() => void loadSession()}
      />
    );
  }
  return (
    <AppContext.Provider value={context}>
      {route.name === 'wall' ? (
        <>
          {/* The wall has no shell; a full disk must show on it all the same. */}
          <StorageBanner />
          <WallPage />
        </>
      ) : (
        <AppShell route={route}>{page(route)}</AppShell>
      )}
      {noticeArea}
    </AppContext.Provider>
  );
}

function page(route: Route) {
  switch (route.name) {
    case 'fleet':
    case 'home':
    case 'login':
    case 'setup':
    case 'invite':
      return <FleetPage />;
    case 'device':
      return <DevicePage key={route.id} id={route.id} />;
    case 'jobs':
      return <JobsPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'cloud':
    case 'firmware':
    case 'network':
    case 'settings':
      return <AdminPage which={route.name} />;
    case 'users':
      return <UsersPage />;
    case 'audit':
      return <AuditPage />;
    case 'wall':
      return null;
    case 'not-found':
      return <NotFoundPage />;
  }
}
