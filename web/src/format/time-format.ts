// How times read on a production floor: "12 s ago", "in 1 h 05 min", "14:32", local time zone.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in words: "45 s", "12 min", "1 h 05 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.round(ms));
  if (abs < MINUTE) return `${Math.floor(abs / 1000)} s`;
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)} min`;
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h > 0 ? `${d} d ${h} h` : `${d} d`;
}

/** "just now", "12 s ago", "3 min ago", "2 h 05 min ago"; "never" for null. */
export function formatAgo(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const ms = now - t;
  if (ms < 5000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

/** Clock time, with the date when it is not today: "14:32" or "3 Mar 14:32". */
export function formatClock(iso: string | null, now: number): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const sameDay = new Date(now).toDateString() === date.toDateString();
  if (sameDay) return time;
  const day = date.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return `${day} ${time}`;
}

/** Full local date and time for tables and tooltips. */
export function formatDateTime(iso: string | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "ETA 14:32 · in 1 h 05 min", "ETA overdue", or null without an estimate. */
export function formatEta(estimatedEndAt: string | null, now: number): string | null {
  if (estimatedEndAt === null) return null;
  const t = Date.parse(estimatedEndAt);
  if (Number.isNaN(t)) return null;
  if (t <= now) return 'ETA now';
  return `ETA ${formatClock(estimatedEndAt, now)} · in ${formatDuration(t - now)}`;
}
