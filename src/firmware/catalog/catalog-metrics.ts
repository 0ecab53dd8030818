// Prometheus metrics of the firmware catalog: packages admitted or refused (by origin and code)
// and sync runs by outcome.

import { Counter, type Registry } from '../../observability/index.js';

export interface CatalogMetrics {
  admission(origin: 'upload' | 'sync', outcome: string): void;
  sync(outcome: 'ok' | 'failed'): void;
}

export function createCatalogMetrics(registry: Registry | undefined): CatalogMetrics {
  if (registry === undefined) return { admission: () => undefined, sync: () => undefined };
  const admissions = new Counter({
    name: 'cc_firmware_admissions_total',
    help: 'Firmware packages offered to the catalog, by origin (upload, sync) and outcome (admitted, existing, or the refusal code).',
    labelNames: ['origin', 'outcome'],
    registers: [registry],
  });
  const syncs = new Counter({
    name: 'cc_firmware_syncs_total',
    help: 'Firmware catalog syncs by outcome (ok: the repository was listed; failed: it was not).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    admission: (origin, outcome) => admissions.inc({ origin, outcome }),
    sync: (outcome) => syncs.inc({ outcome }),
  };
}
