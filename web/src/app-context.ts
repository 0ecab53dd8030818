// What every page of a logged-in session shares: the API client, who is logged in and what they
// may do, the live fleet, the stream's connection state and the notice area.

import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { ApiClient } from './api/api-client';
import type { Me } from './api/types';
import type { FleetStore } from './live/fleet-store';
import type { ConnectionStatus } from './live/stream-connection';

export type NoticeKind = 'info' | 'success' | 'error';

export interface AppContextValue {
  api: ApiClient;
  me: Me;
  fleet: FleetStore;
  connection: ConnectionStatus;
  can: (permission: string) => boolean;
  notify: (text: string, kind?: NoticeKind) => void;
  logout: () => void;
  reconnect: () => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside a logged-in session');
  return value;
}

/** Renders again whenever the fleet changed (at most once per animation frame). */
export function useFleetVersion(fleet: FleetStore): number {
  const [, setVersion] = useState(fleet.version);
  useEffect(() => {
    setVersion(fleet.version);
    return fleet.subscribe(() => setVersion(fleet.version));
  }, [fleet]);
  return fleet.version;
}

/** The current time, refreshed every `intervalMs`, for "12 s ago" and ETAs. */
export function useNow(intervalMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** Sets the document title while a page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Command Center`;
  }, [title]);
}
