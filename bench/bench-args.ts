// Tiny `--name value` option reader for benchmarks (numbers only, with defaults and bounds).

export function numberArg(
  args: string[],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const index = args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} must be a number between ${min} and ${max}`);
  }
  return value;
}

export function percent(n: number): string {
  return `${(n * 100).toFixed(0)}%`;
}
