// Horizontal bars for job progress and consumable levels, exposed to assistive technology as
// progressbar / meter with their values.

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div
      class="bar"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
    >
      <div class="bar-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function LevelBar({
  value,
  label,
  status,
}: {
  value: number;
  label: string;
  status: string;
}) {
  const pct = Math.max(0, Math.min(100, value));
  return (
    <div
      class={`bar level level-${status}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-valuetext={`${Math.round(pct)} %, ${status}`}
    >
      <div class="bar-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
