// Data-sharing consent per category: what each covers, whether it is granted, who decided and when.
// Changes are collected locally and saved together; only the categories that changed are sent, so
// a save never re-records a decision nobody made.

import { useState } from 'preact/hooks';
import { putVia } from '../api/api-client';
import type { ConsentCategory, ConsentView } from '../api/types';
import { useApp } from '../app-context';
import { formatDateTime } from '../format/time-format';
import { messageOf } from './users-page';

const CATEGORY_LABEL: Record<ConsentCategory, string> = {
  identity: 'Identity',
  production: 'Production',
  labels: 'Labels',
  network: 'Network',
  freeText: 'Free text',
};

/** What happens to a category's values while consent is not granted (the server's rule). */
function withoutConsent(category: ConsentCategory): string {
  return category === 'freeText' ? 'Left out' : 'Pseudonymized';
}

function decision(item: ConsentView): string {
  if (item.at === null) return item.granted ? 'Granted by default' : 'Not decided yet';
  const who = item.by ?? 'unknown';
  return `${item.granted ? 'Granted' : 'Withdrawn'} by ${who}, ${formatDateTime(item.at)}`;
}

export function ConsentPanel({
  items,
  onSaved,
}: {
  items: ConsentView[];
  onSaved: (items: ConsentView[]) => void;
}) {
  const { api, notify } = useApp();
  const [draft, setDraft] = useState<Partial<Record<ConsentCategory, boolean>>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Compared with what the server says now, so a change someone else made meanwhile is not undone.
  const changes: Partial<Record<ConsentCategory, boolean>> = {};
  for (const item of items) {
    const wanted = draft[item.category];
    if (wanted !== undefined && wanted !== item.granted) changes[item.category] = wanted;
  }
  const changed = Object.keys(changes).length;

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    if (changed === 0) return;
    setBusy(true);
    setError(null);
    try {
      const r = await putVia<{ items: ConsentView[] }>(api, '/api/v1/cloud/consent', changes);
      setDraft({});
      onSaved(r.items);
      notify(`Consent saved (${changed} ${changed === 1 ? 'category' : 'categories'}).`, 'success');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="cloud-consent">
      <h2 id="cloud-consent">Data-sharing consent</h2>
      <p id="cloud-consent-note">
        Reports always hold anonymous health and fleet figures. Values that could identify people,
        jobs or your network are shared as they are only for the categories granted here. Without
        consent they are <strong>pseudonymized</strong> with a key that never leaves this site (the
        cloud can tell them apart but not read them), and free text is <strong>left out</strong>.
        Each decision is recorded with who made it and when, and audited.
      </p>
      <form aria-label="Data-sharing consent" onSubmit={(e) => void save(e)}>
        <div class="table-wrap">
          <table class="table cloud-consent-table" aria-describedby="cloud-consent-note">
            <thead>
              <tr>
                <th scope="col">Category</th>
                <th scope="col">What it covers</th>
                <th scope="col">Share as is</th>
                <th scope="col">Without consent</th>
                <th scope="col">Decided</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const id = `cloud-consent-${item.category}`;
                const value = draft[item.category] ?? item.granted;
                const pending = value !== item.granted;
                return (
                  <tr key={item.category} data-consent={item.category}>
                    <th scope="row">{CATEGORY_LABEL[item.category]}</th>
                    <td id={`${id}-desc`}>{item.description}</td>
                    <td>
                      <label class="cloud-switch" for={id}>
                        <input
                          id={id}
                          type="checkbox"
                          role="switch"
                          checked={value}
                          aria-label={`Share ${CATEGORY_LABEL[item.category]}`}
                          aria-describedby={`${id}-desc`}
                          onChange={(e) => {
                            const next = e.currentTarget.checked;
                            setDraft((d) => ({ ...d, [item.category]: next }));
                          }}
                        />
                        <span aria-hidden="true">{value ? 'Yes' : 'No'}</span>
                      </label>
                      {pending ? <span class="small cloud-tone-warning"> (not saved)</span> : null}
                    </td>
                    <td>{value ? '—' : withoutConsent(item.category)}</td>
                    <td class="small">{decision(item)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <div class="actions cloud-form-actions">
          <button type="submit" class="button primary" disabled={busy || changed === 0}>
            {busy ? 'Saving…' : 'Save consent'}
          </button>
          <button
            type="button"
            class="button"
            disabled={busy || changed === 0}
            onClick={() => setDraft({})}
          >
            Discard changes
          </button>
          <span class="small muted" aria-live="polite">
            {changed === 0
              ? 'No unsaved changes.'
              : `${changed} unsaved ${changed === 1 ? 'change' : 'changes'}.`}
          </span>
        </div>
        {error ? (
          <p class="form-error" role="alert">
            Consent not saved: {error}
          </p>
        ) : null}
      </form>
    </section>
  );
}
