// The IPv4 address each simulated device listens on: the first address plus the device's index,
// counting up through the last octets and skipping network (x.x.x.0) and broadcast (x.x.x.255) ones.

import { isIPv4 } from 'node:net';

/** The 32-bit value of an IPv4 literal; throws a clear Error for anything else. */
export function parseIpv4(address: string): number {
  if (!isIPv4(address)) {
    throw new Error(`"${address.slice(0, 64)}" is not an IPv4 address (e.g. 127.0.0.11)`);
  }
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function usable(value: number): boolean {
  const last = value % 256;
  return last !== 0 && last !== 255;
}

/**
 * The `index`-th usable address counting from `first` (index 0 is `first` itself, or the next
 * usable one when `first` ends in .0 or .255). Throws when the block runs past 255.255.255.254.
 */
export function addressAt(first: string, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`address index must be a non-negative integer, got ${index}`);
  }
  let value = parseIpv4(first);
  while (!usable(value)) value += 1;
  // 254 usable addresses per /24: jump whole blocks, then walk the rest.
  const blocks = Math.floor(index / 254);
  value += blocks * 256;
  for (let left = index - blocks * 254; left > 0; left--) {
    value += 1;
    while (!usable(value)) value += 1;
  }
  if (value > 0xfffffffe) {
    throw new RangeError(`no address ${index} after ${first}: the block runs past 255.255.255.254`);
  }
  return formatIpv4(value);
}
