// Client-side routing on the History API: paths map to pages, links change the URL without a
// page load, and every page has a real URL the server answers with index.html.

import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'login' }
  | { name: 'setup' }
  | { name: 'invite' }
  | { name: 'audit' }
  | { name: 'fleet' }
  | { name: 'device'; id: string }
  | { name: 'jobs' }
  | { name: 'alerts' }
  | { name: 'wall' }
  | { name: 'cloud' }
  | { name: 'firmware' }
  | { name: 'network' }
  | { name: 'users' }
  | { name: 'settings' }
  | { name: 'home' }
  | { name: 'not-found' };

const SIMPLE: Record<string, Route['name']> = {
  '': 'home',
  'index.html': 'home',
  login: 'login',
  setup: 'setup',
  invite: 'invite',
  audit: 'audit',
  fleet: 'fleet',
  jobs: 'jobs',
  alerts: 'alerts',
  wall: 'wall',
  cloud: 'cloud',
  firmware: 'firmware',
  network: 'network',
  users: 'users',
  settings: 'settings',
};

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts.length === 2 && parts[0] === 'devices' && parts[1]) {
    try {
      return { name: 'device', id: decodeURIComponent(parts[1]) };
    } catch {
      return { name: 'not-found' };
    }
  }
  if (parts.length > 1) return { name: 'not-found' };
  const name = SIMPLE[parts[0] ?? ''];
  return name && name !== 'device' ? { name } : { name: 'not-found' };
}

export function devicePath(id: string): string {
  return `/devices/${encodeURIComponent(id)}`;
}

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

/** Changes only the query string (filters), without a new history entry. */
export function replaceSearch(search: string): void {
  history.replaceState(null, '', `${location.pathname}${search}${location.hash}`);
  notify();
}

export interface LocationState {
  pathname: string;
  search: string;
}

export function useLocation(): LocationState {
  const [state, setState] = useState<LocationState>({
    pathname: location.pathname,
    search: location.search,
  });
  useEffect(() => {
    const update = (): void => setState({ pathname: location.pathname, search: location.search });
    listeners.add(update);
    return () => listeners.delete(update);
  }, []);
  return state;
}

/** Click handler for in-app links: plain left clicks navigate; others open as the browser does. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (anchor.target && anchor.target !== '_self') return;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(`${url.pathname}${url.search}`);
}
