// `command-center status`: the fleet of a running server at a glance — counts per state, then one
// row per device (state, current job, progress, ETA, low consumables, open alerts, last seen) —
// or, with --json, every device view, following the API's pagination.

import type { Command } from 'commander';
import {
  CcError,
  DEVICE_KINDS,
  DEVICE_STATES,
  type DeviceKind,
  type DeviceState,
  type DeviceView,
} from '../../domain/index.js';
import {
  addServerOptions,
  connectApi,
  withLoginHint,
  type ApiClient,
  type ServerOptions,
} from '../api-client.js';
import { countStates, formatStateCounts, renderFleetTable, useColor } from '../fleet-format.js';

interface StatusOptions extends ServerOptions {
  site?: string;
  kind?: string;
  state?: string;
  search?: string;
  json?: boolean;
}

interface DevicePage {
  items: DeviceView[];
  total: number;
}

/** The API's largest page: a fleet of 500 devices comes in one request. */
const PAGE_LIMIT = 500;

/** "printing,paused" → the states, each checked against the known ones. */
function parseList<T extends string>(option: string, value: string, known: readonly T[]): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    if (!(known as readonly string[]).includes(item)) {
      throw new CcError(
        'BAD_REQUEST',
        `${option} "${item.slice(0, 40)}" is not one of ${known.join(', ')}`,
      );
    }
  }
  if (items.length === 0) throw new CcError('BAD_REQUEST', `${option} needs a value`);
  return items as T[];
}

/** Every device matching the filters, page after page (devices are keyed by id: no duplicates). */
export async function fetchFleet(
  api: ApiClient,
  filters: { siteId?: string; kind?: DeviceKind; state?: DeviceState; q?: string },
): Promise<DeviceView[]> {
  const byId = new Map<string, DeviceView>();
  for (let offset = 0; ; offset += PAGE_LIMIT) {
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT), offset: String(offset) });
    for (const key of ['siteId', 'kind', 'state', 'q'] as const) {
      const value = filters[key];
      if (value !== undefined) query.set(key, value);
    }
    const page = await api.call<DevicePage>('GET', `/api/v1/devices?${query.toString()}`);
    for (const d of page.items) byId.set(d.id, d);
    if (page.items.length < PAGE_LIMIT || offset + PAGE_LIMIT >= page.total) break;
  }
  return [...byId.values()];
}

export function registerStatusCommand(program: Command): void {
  addServerOptions(
    program
      .command('status')
      .description('show the fleet: counts per state, then every device with its job and alerts')
      .option('--site <siteId>', 'only devices of this site')
      .option('--kind <kinds>', `only these kinds, comma-separated (${DEVICE_KINDS.join(', ')})`)
      .option(
        '--state <states>',
        `only these states, comma-separated (${DEVICE_STATES.join(', ')})`,
      )
      .option('--search <text>', 'only devices whose id, name, model or serial contains the text')
      .option('--json', 'print the device views as a JSON array (every page)'),
  ).action(async (options: StatusOptions) => {
    const kinds = options.kind === undefined ? [] : parseList('--kind', options.kind, DEVICE_KINDS);
    const states =
      options.state === undefined ? [] : parseList('--state', options.state, DEVICE_STATES);
    const api = await connectApi(options);
    let devices: DeviceView[];
    try {
      // One kind or state is filtered by the server; several are filtered here.
      devices = await fetchFleet(api, {
        ...(options.site !== undefined ? { siteId: options.site } : {}),
        ...(kinds.length === 1 ? { kind: kinds[0] } : {}),
        ...(states.length === 1 ? { state: states[0] } : {}),
        ...(options.search !== undefined && options.search !== '' ? { q: options.search } : {}),
      });
    } catch (err) {
      throw withLoginHint(err);
    } finally {
      await api.close();
    }
    devices = devices.filter(
      (d) =>
        (kinds.length <= 1 || kinds.includes(d.kind)) &&
        (states.length <= 1 || states.includes(d.state)),
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
      return;
    }
    const color = useColor(process.stdout, process.env);
    const counts = formatStateCounts(countStates(devices), color);
    const filtered = [options.site, options.kind, options.state, options.search].some(
      (f) => f !== undefined,
    );
    process.stdout.write(
      devices.length === 0
        ? `${counts}\n${filtered ? 'no device matches the filters' : 'no devices yet'}\n`
        : `${counts}\n\n${renderFleetTable(devices, { now: Date.now(), color })}`,
    );
  });
}
