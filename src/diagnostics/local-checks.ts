// Checks of this machine and the server on it: port ranges (free, ours or taken), disk space of the
// data directory, the MQTT broker and the database answering, and the clock against the cloud's.

import { statfs } from 'node:fs/promises';
import { findPortHolder, isPortFree } from '../net/index.js';
import type { ClockSample } from './checks.js';
import { failure, type Verdict } from './explain.js';
import { connectTcp, errorCode, readUntilBytes } from './socket-io.js';

/** A local check's outcome; `skipped` when there was nothing to check against. */
export type Reading = Omit<Verdict, 'status'> & {
  status: Verdict['status'] | 'skipped';
  value?: number;
  unit?: string;
};

export interface PortRangeToCheck {
  /** The configuration key, e.g. `ports.https`. */
  key: string;
  from: number;
  to: number;
  /** The port remembered for this range (ports.json), if any. */
  remembered?: number;
}

/** Ports of a range probed at most; a wider range is reported on its first ports. */
export const MAX_PORTS_PROBED = 64;

export function portRangeLabel(range: PortRangeToCheck): string {
  return `${range.key} ${String(range.from)}-${String(range.to)}`;
}

/** Is each port free, held by the running server (`ours`), or taken by another program? */
export async function checkPortRange(
  range: PortRangeToCheck,
  host: string,
  ours: ReadonlySet<number>,
): Promise<Reading> {
  const last = Math.min(range.to, range.from + MAX_PORTS_PROBED - 1);
  const free: number[] = [];
  const mine: number[] = [];
  const taken: number[] = [];
  for (let port = range.from; port <= last; port++) {
    if (ours.has(port)) mine.push(port);
    else if (await isPortFree(port, host)) free.push(port);
    else taken.push(port);
  }
  const probed = last - range.from + 1;
  const partly = last < range.to ? ` (first ${String(probed)} probed)` : '';
  const counts = `${String(mine.length)} ours, ${String(free.length)} free, ${String(taken.length)} taken${partly}`;
  const holderOf = async (port: number): Promise<string> => {
    const holder = await findPortHolder(port);
    return holder === null ? 'another program' : `${holder.name} (pid ${String(holder.pid)})`;
  };
  const envKey = `CC_${range.key.replace('.', '__').toUpperCase()}`;
  const remembered = range.remembered;
  if (remembered !== undefined && taken.includes(remembered) && mine.length === 0) {
    return {
      status: 'warn',
      detail: `remembered port ${String(remembered)} is taken by ${await holderOf(remembered)}; ${counts}`,
      cause: `another program took port ${String(remembered)}: the server will move to another port of the range, and clients and devices configured with the old one must follow`,
      fix: `stop that program, or accept the new port and tell clients and devices; to pin a port set ${range.key} (${envKey})`,
      value: free.length,
      unit: 'ports free',
    };
  }
  if (mine.length > 0)
    return {
      status: 'ok',
      detail: `port ${mine.join(', ')} in use by this server; ${counts}`,
      value: free.length,
      unit: 'ports free',
    };
  if (free.length > 0)
    return {
      status: 'ok',
      detail: `free ports available (first ${String(free[0])}); ${counts}`,
      value: free.length,
      unit: 'ports free',
    };
  const first = taken[0];
  return {
    ...failure(
      `every port of the range is taken${first !== undefined ? ` (${String(first)} by ${await holderOf(first)})` : ''}; ${counts}`,
      'other programs hold the whole range, so the server cannot start this listener',
      `stop the programs holding the range or set ${range.key} (${envKey}) to a free range`,
    ),
    value: 0,
    unit: 'ports free',
  };
}

const MB = 1024 * 1024;

/** Free space where `dir` lives, against `minFreeBytes` (fail below it, warn below twice it). */
export async function checkDiskSpace(dir: string, minFreeBytes: number): Promise<Reading> {
  let free: number;
  let total: number;
  try {
    const stats = await statfs(dir);
    free = stats.bavail * stats.bsize;
    total = stats.blocks * stats.bsize;
  } catch (err) {
    return failure(
      `cannot read the file system of ${dir} (${errorCode(err) ?? String(err)})`,
      'the directory does not exist or is not readable by this user',
      `create ${dir} or fix its permissions (the server's user must own it)`,
    );
  }
  const freeMb = Math.floor(free / MB);
  const percent = total > 0 ? Math.round((free / total) * 100) : 0;
  const detail = `${String(freeMb)} MB free (${String(percent)}%) in ${dir}`;
  const reading = { value: freeMb, unit: 'MB free' };
  if (free < minFreeBytes)
    return {
      ...failure(
        detail,
        `less than the ${String(Math.round(minFreeBytes / MB))} MB minimum: the server refuses writes (device data, reports, audit) until space is freed`,
        `free space on that file system (old logs, backups) or move dataDir to a larger disk`,
      ),
      ...reading,
    };
  if (free < 2 * minFreeBytes)
    return {
      status: 'warn',
      detail,
      cause: `close to the ${String(Math.round(minFreeBytes / MB))} MB minimum below which the server refuses writes`,
      fix: 'free space on that file system or move dataDir to a larger disk',
      ...reading,
    };
  return { status: 'ok', detail, ...reading };
}

/** MQTT 3.1.1 CONNECT without credentials; the broker must answer CONNACK (and refuse it). */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const remaining = variable.length + payload.length;
  return Buffer.concat([Buffer.from([0x10, remaining]), variable, payload]);
}

const CONNACK_CODES: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** Connects to the broker and completes an MQTT handshake. */
export async function checkBroker(
  target: { host: string; port: number } | null,
  ms: number,
): Promise<Reading> {
  if (target === null)
    return {
      status: 'warn',
      detail: 'the server is not running, so its broker cannot be checked',
      cause: 'no running server was found on the remembered ports',
      fix: 'start the server (systemctl start command-center) and run the doctor again',
    };
  const where = `${target.host}:${String(target.port)}`;
  const started = Date.now();
  let socket;
  try {
    socket = await connectTcp(target.host, target.port, ms);
  } catch (err) {
    return failure(
      `MQTT broker at ${where} unreachable (${errorCode(err) ?? String(err)})`,
      'the broker is not listening: the server is stopped or its MQTT listener failed to start',
      'check the server log (journalctl -u command-center) and restart the server',
    );
  }
  try {
    socket.write(connectPacket(`cc-doctor-${String(process.pid)}`));
    const answer = await readUntilBytes(socket, `MQTT CONNACK from ${where}`, ms, 4);
    if (answer[0] !== 0x20 || answer[1] !== 0x02)
      return failure(
        `the MQTT port ${where} answered something other than CONNACK`,
        'another program listens on the MQTT port',
        'stop that program or move the MQTT listener (ports.mqtt)',
      );
    const code = answer[3] ?? 0;
    const took = Date.now() - started;
    if (code === 0)
      return {
        status: 'warn',
        detail: `MQTT broker at ${where} accepted an anonymous client (${String(took)} ms)`,
        cause: 'the broker does not require device credentials',
        fix: 'make sure the port belongs to this server; its embedded broker refuses anonymous clients',
        value: took,
        unit: 'ms',
      };
    return {
      status: 'ok',
      detail: `MQTT broker at ${where} answers CONNACK in ${String(took)} ms (anonymous refused: ${CONNACK_CODES[code] ?? String(code)})`,
      value: took,
      unit: 'ms',
    };
  } catch (err) {
    return failure(
      `MQTT broker at ${where} did not complete the handshake: ${err instanceof Error ? err.message : String(err)}`,
      'the broker is overloaded or hung, or the port belongs to another program',
      'check the server log and restart the server',
    );
  } finally {
    socket.destroy();
  }
}

/** Runs the database's own probe (a query); its detail, or the failure. */
export async function checkDatabase(probe: () => Promise<string>, ms: number): Promise<Reading> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      probe(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${String(ms)} ms`));
        }, ms);
      }),
    ]);
    const took = Date.now() - started;
    return { status: 'ok', detail: `${detail} (${String(took)} ms)`, value: took, unit: 'ms' };
  } catch (err) {
    return failure(
      `database check failed: ${err instanceof Error ? err.message : String(err)}`,
      'the database file is missing, locked, corrupt or on a full or read-only disk',
      'check the disk and the server log; restore the latest backup (command-center restore) if the file is damaged',
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Skew beyond which reports and certificates start to misbehave. */
export const CLOCK_WARN_SECONDS = 60;
export const CLOCK_FAIL_SECONDS = 300;

/** This machine's clock against a cloud server's `Date` header (one-second resolution). */
export function checkClock(sample: ClockSample | undefined): Reading {
  if (sample === undefined)
    return {
      status: 'skipped',
      detail:
        "no HTTPS endpoint answered with a Date header, so the clock could not be compared with the cloud's (see the endpoint checks)",
    };
  const server = Date.parse(sample.serverDate);
  if (Number.isNaN(server))
    return {
      status: 'warn',
      detail: `${sample.subject} sent an unreadable Date header`,
      cause: 'the server or a proxy rewrote the header',
      fix: 'make sure NTP is on (timedatectl)',
    };
  const midpoint = (sample.sentAt + sample.receivedAt) / 2;
  // The header has whole seconds: up to one second of difference is resolution, not skew.
  const raw = (midpoint - server) / 1000;
  const skew = Math.abs(raw) <= 1 ? 0 : raw - Math.sign(raw) * 1;
  const seconds = Math.round(skew);
  const direction = seconds > 0 ? 'ahead of' : 'behind';
  const detail =
    seconds === 0
      ? `in step with ${sample.subject} (within the Date header's 1 s resolution)`
      : `${String(Math.abs(seconds))} s ${direction} ${sample.subject}`;
  const reading = { value: seconds, unit: 's' };
  if (Math.abs(seconds) > CLOCK_FAIL_SECONDS)
    return {
      ...failure(
        detail,
        "this machine's clock is wrong: certificates look expired or not yet valid, and the cloud rejects reports with stale timestamps",
        'turn on time synchronisation (timedatectl set-ntp true) and allow NTP (UDP 123) to the site time server',
      ),
      ...reading,
    };
  if (Math.abs(seconds) > CLOCK_WARN_SECONDS)
    return {
      status: 'warn',
      detail,
      cause: "this machine's clock drifts from the cloud's",
      fix: 'turn on time synchronisation (timedatectl set-ntp true)',
      ...reading,
    };
  return { status: 'ok', detail, ...reading };
}
