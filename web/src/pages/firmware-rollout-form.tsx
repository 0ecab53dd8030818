// Starting a rollout: a catalog package, the devices by model, site or an explicit list from the
// live fleet, and the canary size, concurrency and failure threshold. Before submitting, the
// selected devices are shown with whether the package fits them (its models, not on its version
// already, online); the server decides, and the devices it did not take come back with the reason.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type {
  CreatedRollout,
  DeviceView,
  FirmwarePackage,
  Page,
  RolloutCreateBody,
  RolloutSelection,
} from '../api/types';
import { useApp, useFleetVersion } from '../app-context';
import { NamedIcon } from '../components/icons';
import { siteLabel } from '../format/labels';
import { messageOf } from './users-page';

/** Devices listed in the preview; a fleet of thousands is summed up past this. */
const PREVIEW_ROWS = 100;

export type Fit = 'fits' | 'model' | 'same-version' | 'offline';

/** A cheap look at whether a device can take a package; the server checks semver and more. */
export function fitOf(pkg: FirmwarePackage, d: DeviceView): Fit {
  if (!pkg.models.includes(d.model)) return 'model';
  if (d.firmwareVersion === pkg.version) return 'same-version';
  if (d.state === 'offline') return 'offline';
  return 'fits';
}

const FIT_TEXT: Record<Fit, string> = {
  fits: 'package fits',
  model: 'not a model the package is for',
  'same-version': 'already on this version',
  offline: 'offline: will be skipped',
};

function toggled(list: string[], value: string, on: boolean): string[] {
  return on ? [...list, value] : list.filter((v) => v !== value);
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => a.localeCompare(b));
}

function wholeNumber(text: string, min: number): number | null {
  const n = Number(text);
  return text.trim() !== '' && Number.isInteger(n) && n >= min ? n : null;
}

export function RolloutForm({
  refreshKey,
  onCreated,
}: {
  refreshKey: number;
  onCreated: (rollout: CreatedRollout) => void;
}) {
  const { api, can, fleet } = useApp();
  const fleetVersion = useFleetVersion(fleet);
  const [packages, setPackages] = useState<FirmwarePackage[] | null>(null);
  const [packageId, setPackageId] = useState('');
  const [models, setModels] = useState<string[]>([]);
  const [sites, setSites] = useState<string[]>([]);
  const [explicit, setExplicit] = useState(false);
  const [devices, setDevices] = useState<string[]>([]);
  const [canary, setCanary] = useState('1');
  const [concurrency, setConcurrency] = useState('');
  const [threshold, setThreshold] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedRollout | null>(null);
  const manage = can('firmware:manage');

  useEffect(() => {
    if (!manage) return;
    api.get<Page<FirmwarePackage>>('/api/v1/firmware/packages', { limit: 100 }).then(
      (p) => setPackages(p.items),
      (err: unknown) => setError(`The catalog could not be loaded: ${messageOf(err)}`),
    );
  }, [api, manage, refreshKey]);

  const all = useMemo(
    () => [...fleet.devices.values()].sort((a, b) => a.id.localeCompare(b.id)),
    [fleet, fleetVersion],
  );
  const fleetModels = useMemo(() => sorted(all.map((d) => d.model)), [all]);
  const fleetSites = useMemo(
    () => sorted(all.flatMap((d) => (d.siteId === null ? [] : [d.siteId]))),
    [all],
  );
  const pkg = packages?.find((p) => p.id === packageId) ?? null;
  const filtered = all.filter(
    (d) =>
      (models.length === 0 || models.includes(d.model)) &&
      (sites.length === 0 || (d.siteId !== null && sites.includes(d.siteId))),
  );
  const selected = explicit ? filtered.filter((d) => devices.includes(d.id)) : filtered;

  if (!manage) {
    return (
      <section class="panel" aria-labelledby="fw-new-rollout">
        <h2 id="fw-new-rollout">New rollout</h2>
        <p class="callout info" data-permission-needed>
          You need the <code>firmware:manage</code> permission (an administrator) to start, pause,
          resume or abort rollouts.
        </p>
      </section>
    );
  }

  async function submit(): Promise<void> {
    setError(null);
    setCreated(null);
    const canarySize = wholeNumber(canary, 0);
    const failureThreshold = wholeNumber(threshold, 1);
    const conc = concurrency.trim() === '' ? undefined : wholeNumber(concurrency, 1);
    if (!pkg) return setError('Choose a package.');
    if (canarySize === null) return setError('Canary size must be a whole number, 0 or more.');
    if (failureThreshold === null)
      return setError('Failure threshold must be a whole number, 1 or more.');
    if (conc === null) return setError('Concurrency must be a whole number, 1 or more.');
    if (explicit && selected.length === 0) return setError('Tick at least one device.');
    const selection: RolloutSelection = {
      ...(models.length > 0 ? { models } : {}),
      ...(sites.length > 0 ? { sites } : {}),
      ...(explicit ? { devices: selected.map((d) => d.id) } : {}),
    };
    const body: RolloutCreateBody = {
      packageId: pkg.id,
      selection,
      canarySize,
      ...(conc !== undefined ? { concurrency: conc } : {}),
      failureThreshold,
    };
    setBusy(true);
    try {
      const rollout = await api.post<CreatedRollout>('/api/v1/firmware/rollouts', body);
      setCreated(rollout);
      onCreated(rollout);
    } catch (err) {
      setError(`Not started: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  const now = Date.now();
  return (
    <section class="panel" aria-labelledby="fw-new-rollout">
      <h2 id="fw-new-rollout">New rollout</h2>
      <form
        class="fw-rollout-form"
        aria-label="New rollout"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div class="field">
          <label for="fw-rollout-package">Package</label>
          <select
            id="fw-rollout-package"
            value={packageId}
            required
            onChange={(e) => setPackageId(e.currentTarget.value)}
          >
            <option value="">{packages === null ? 'Loading…' : 'Choose a package'}</option>
            {(packages ?? []).map((p) => {
              const expired = Date.parse(p.expiresAt) <= now;
              return (
                <option key={p.id} value={p.id} disabled={expired}>
                  {p.name} {p.version} — {p.models.join(', ')}
                  {expired ? ' (expired)' : ''}
                </option>
              );
            })}
          </select>
        </div>
        <fieldset class="fw-choices">
          <legend>Models (none ticked: every model the package is for)</legend>
          {fleetModels.map((m) => (
            <label key={m} class="fw-choice">
              <input
                type="checkbox"
                checked={models.includes(m)}
                onChange={(e) => setModels(toggled(models, m, e.currentTarget.checked))}
              />{' '}
              {m}
              {pkg && !pkg.models.includes(m) ? <span class="muted"> (not for it)</span> : null}
            </label>
          ))}
        </fieldset>
        {fleetSites.length > 0 ? (
          <fieldset class="fw-choices">
            <legend>Sites (none ticked: every site)</legend>
            {fleetSites.map((s) => (
              <label key={s} class="fw-choice">
                <input
                  type="checkbox"
                  checked={sites.includes(s)}
                  onChange={(e) => setSites(toggled(sites, s, e.currentTarget.checked))}
                />{' '}
                {siteLabel(s)}
              </label>
            ))}
          </fieldset>
        ) : null}
        <fieldset class="fw-choices">
          <legend>Devices</legend>
          <label class="fw-choice">
            <input
              type="radio"
              name="fw-rollout-devices"
              checked={!explicit}
              onChange={() => setExplicit(false)}
            />{' '}
            Every device of the models and sites above
          </label>
          <label class="fw-choice">
            <input
              type="radio"
              name="fw-rollout-devices"
              checked={explicit}
              onChange={() => setExplicit(true)}
            />{' '}
            Only the devices ticked below
          </label>
          {explicit ? (
            <div class="fw-device-picks">
              {pkg ? (
                <button
                  type="button"
                  class="link-button"
                  onClick={() =>
                    setDevices(filtered.filter((d) => fitOf(pkg, d) === 'fits').map((d) => d.id))
                  }
                >
                  Tick every device the package fits
                </button>
              ) : null}
              {filtered.map((d) => (
                <label key={d.id} class="fw-choice">
                  <input
                    type="checkbox"
                    checked={devices.includes(d.id)}
                    onChange={(e) => setDevices(toggled(devices, d.id, e.currentTarget.checked))}
                  />{' '}
                  {d.name} <code>{d.id}</code>{' '}
                  <span class="muted small">
                    {d.model}, {d.firmwareVersion || 'unknown version'}
                  </span>
                </label>
              ))}
            </div>
          ) : null}
        </fieldset>
        <div class="filters">
          <div class="field">
            <label for="fw-rollout-canary">Canary size</label>
            <input
              id="fw-rollout-canary"
              type="number"
              min={0}
              step={1}
              value={canary}
              aria-describedby="fw-rollout-canary-help"
              onInput={(e) => setCanary(e.currentTarget.value)}
            />
            <span id="fw-rollout-canary-help" class="small muted">
              updated first; 0 for none
            </span>
          </div>
          <div class="field">
            <label for="fw-rollout-concurrency">Concurrency</label>
            <input
              id="fw-rollout-concurrency"
              type="number"
              min={1}
              step={1}
              placeholder="server default (4)"
              value={concurrency}
              aria-describedby="fw-rollout-concurrency-help"
              onInput={(e) => setConcurrency(e.currentTarget.value)}
            />
            <span id="fw-rollout-concurrency-help" class="small muted">
              devices updated at a time
            </span>
          </div>
          <div class="field">
            <label for="fw-rollout-threshold">Failure threshold</label>
            <input
              id="fw-rollout-threshold"
              type="number"
              min={1}
              step={1}
              value={threshold}
              aria-describedby="fw-rollout-threshold-help"
              onInput={(e) => setThreshold(e.currentTarget.value)}
            />
            <span id="fw-rollout-threshold-help" class="small muted">
              failed devices that pause the rollout
            </span>
          </div>
        </div>
        {pkg ? <FitPreview pkg={pkg} devices={selected} /> : null}
        <div class="actions">
          <button type="submit" class="button primary" disabled={busy || !pkg}>
            {busy ? 'Starting…' : 'Start rollout'}
          </button>
        </div>
      </form>
      <div aria-live="polite" class="fw-result" data-rollout-result>
        {error ? (
          <p class="form-error" role="alert">
            <NamedIcon name="error" /> {error}
          </p>
        ) : null}
        {created ? <CreatedSummary rollout={created} /> : null}
      </div>
    </section>
  );
}

function FitPreview({ pkg, devices }: { pkg: FirmwarePackage; devices: DeviceView[] }) {
  const fits = devices.map((d) => ({ d, fit: fitOf(pkg, d) }));
  const count = (f: Fit) => fits.filter((x) => x.fit === f).length;
  return (
    <section class="fw-preview" aria-labelledby="fw-preview-title" data-fit-preview>
      <h3 id="fw-preview-title">Selected devices</h3>
      <p data-fit-counts>
        {devices.length} selected: <strong>{count('fits')}</strong> the package fits
        {count('offline') > 0 ? `, ${count('offline')} offline` : ''}
        {count('model') > 0 ? `, ${count('model')} of another model` : ''}
        {count('same-version') > 0 ? `, ${count('same-version')} already on ${pkg.version}` : ''}.
      </p>
      {devices.length > 0 ? (
        <ul class="fw-plain fw-fit-list">
          {fits.slice(0, PREVIEW_ROWS).map(({ d, fit }) => (
            <li key={d.id} data-fit={fit} class={fit === 'fits' ? 'fw-ok' : 'fw-bad'}>
              <NamedIcon name={fit === 'fits' ? 'check' : fit === 'offline' ? 'offline' : 'stop'} />{' '}
              {d.name} <code>{d.id}</code>{' '}
              <span class="muted small">
                {d.model}, {d.firmwareVersion || 'unknown version'}
              </span>
              : {FIT_TEXT[fit]}
            </li>
          ))}
        </ul>
      ) : null}
      {devices.length > PREVIEW_ROWS ? (
        <p class="small muted">and {devices.length - PREVIEW_ROWS} more</p>
      ) : null}
    </section>
  );
}

function CreatedSummary({ rollout: r }: { rollout: CreatedRollout }) {
  return (
    <div class="fw-outcome" data-created={r.id}>
      <p class="fw-ok">
        <NamedIcon name="check" /> Rollout of {r.packageName ?? 'the package'} {r.toVersion ?? ''}{' '}
        started on {r.total} {r.total === 1 ? 'device' : 'devices'}.
      </p>
      {r.limitedToSites ? (
        <p class="small">Limited to your sites: {r.limitedToSites.join(', ')}.</p>
      ) : null}
      {r.excluded.length > 0 ? (
        <>
          <p>
            {r.excluded.length} selected {r.excluded.length === 1 ? 'device was' : 'devices were'}{' '}
            not taken:
          </p>
          <table class="table" aria-label="Devices not taken">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {r.excluded.map((x) => (
                <tr key={x.deviceId} data-excluded={x.deviceId}>
                  <td>
                    <code>{x.deviceId}</code>
                  </td>
                  <td>{x.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
