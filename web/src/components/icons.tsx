// Line icons drawn inline (no icon font, no emoji: they render the same on every kiosk), always
// beside a text label, so colour and shape are never the only signal.

import type { DeviceState } from '../api/types';

interface IconProps {
  path: string;
  class?: string;
}

function Icon({ path, class: className }: IconProps) {
  return (
    <svg
      class={`icon ${className ?? ''}`}
      viewBox="0 0 24 24"
      width="16"
      height="16"
      aria-hidden="true"
      focusable="false"
    >
      <path d={path} fill-rule="evenodd" />
    </svg>
  );
}

const PATHS = {
  play: 'M8 5v14l11-7z',
  pause: 'M7 5h4v14H7zM13 5h4v14h-4z',
  idle: 'M12 4a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm0 3a5 5 0 1 0 0 10 5 5 0 0 0 0-10z',
  error: 'M12 2 1 21h22zm-1 7h2v6h-2zm0 8h2v2h-2z',
  offline:
    'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm0 2.5a7.5 7.5 0 0 0-5.9 12.1L16.6 6.1A7.5 7.5 0 0 0 12 4.5zm5.9 2.9L7.4 17.9A7.5 7.5 0 0 0 17.9 7.4z',
  maintenance:
    'M21 7.5a5 5 0 0 1-6.6 4.7L6.8 19.8a2 2 0 0 1-2.8-2.8l7.6-7.6A5 5 0 0 1 17.5 3l-3 3 .5 3 3 .5z',
  updating: 'M12 4V1L7 6l5 5V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-8z',
  bell: 'M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1z',
  drop: 'M12 2s-7 8-7 13a7 7 0 0 0 14 0c0-5-7-13-7-13z',
  stop: 'M6 6h12v12H6z',
  download: 'M11 3h2v10l3.5-3.5 1.4 1.4L12 16.8l-5.9-5.9 1.4-1.4L11 13zM4 19h16v2H4z',
  check: 'M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z',
} as const;

export type IconName = keyof typeof PATHS;

export function NamedIcon({ name, class: className }: { name: IconName; class?: string }) {
  return <Icon path={PATHS[name]} {...(className ? { class: className } : {})} />;
}

const STATE_ICON: Record<DeviceState, IconName> = {
  idle: 'idle',
  printing: 'play',
  paused: 'pause',
  error: 'error',
  offline: 'offline',
  maintenance: 'maintenance',
  updating: 'updating',
};

export function StateIcon({ state }: { state: DeviceState }) {
  return <NamedIcon name={STATE_ICON[state]} />;
}
