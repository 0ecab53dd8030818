// Data-sharing consent: the standing decision per category (the last recorded change), and
// recording changes — each one appended to the consent history and audited.

import { randomUUID } from 'node:crypto';
import type { AuditEntry, ConsentState, Store } from '../store/index.js';
import { CONSENT_CATEGORIES, CONSENT_CATEGORY_DESCRIPTIONS } from './report/index.js';
import type { ConsentCategory } from './report/index.js';
import type { Actor, ConsentView } from './uplink-types.js';

export function consentViews(current: Record<string, ConsentState>): ConsentView[] {
  return CONSENT_CATEGORIES.map((category) => {
    const state = current[category];
    return {
      category,
      description: CONSENT_CATEGORY_DESCRIPTIONS[category],
      granted: state?.granted ?? false,
      at: state?.at ?? null,
      by: state?.by ?? null,
    };
  });
}

/** The categories whose values may be sent in clear. */
export function grantedCategories(current: Record<string, ConsentState>): Set<ConsentCategory> {
  return new Set(CONSENT_CATEGORIES.filter((category) => current[category]?.granted === true));
}

/** Records the categories whose decision changes (others are left alone); audits them once. */
export async function recordConsent(
  deps: {
    store: Pick<Store, 'uplink'>;
    audit: { record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> };
  },
  changes: Partial<Record<ConsentCategory, boolean>>,
  actor: Actor,
  at: Date,
): Promise<ConsentView[]> {
  const current = await deps.store.uplink.currentConsent();
  const changed: Record<string, boolean> = {};
  for (const category of CONSENT_CATEGORIES) {
    const wanted = changes[category];
    if (wanted === undefined || (current[category]?.granted ?? false) === wanted) continue;
    await deps.store.uplink.appendConsent({
      id: randomUUID(),
      category,
      granted: wanted,
      at: at.toISOString(),
      by: actor.name,
      source: actor.source,
    });
    changed[category] = wanted;
  }
  if (Object.keys(changed).length > 0) {
    await deps.audit.record({
      actor: actor.name,
      action: 'cloud.consent',
      target: Object.keys(changed).join(','),
      outcome: 'ok',
      source: actor.source,
      details: changed,
    });
  }
  return consentViews(await deps.store.uplink.currentConsent());
}
