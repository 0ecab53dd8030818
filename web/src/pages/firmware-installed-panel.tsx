// Which firmware versions the live fleet runs, per model: what a rollout would change, and how far
// one has come (the versions update by themselves as devices report).

import { useMemo } from 'preact/hooks';
import { useApp, useFleetVersion } from '../app-context';

export function InstalledFirmwarePanel() {
  const { fleet } = useApp();
  const version = useFleetVersion(fleet);
  const rows = useMemo(() => {
    const byKey = new Map<string, { model: string; firmware: string; count: number }>();
    for (const d of fleet.devices.values()) {
      const key = `${d.model}\u0000${d.firmwareVersion}`;
      const row = byKey.get(key) ?? { model: d.model, firmware: d.firmwareVersion, count: 0 };
      row.count += 1;
      byKey.set(key, row);
    }
    return [...byKey.values()].sort(
      (a, b) => a.model.localeCompare(b.model) || a.firmware.localeCompare(b.firmware),
    );
  }, [fleet, version]);
  return (
    <section class="panel" aria-labelledby="fw-installed">
      <h2 id="fw-installed">Installed firmware</h2>
      {rows.length === 0 ? (
        <p class="muted">No devices yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table" aria-label="Installed firmware per model">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Firmware version</th>
                <th scope="col" class="num">
                  Devices
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.model}/${r.firmware}`}>
                  <td>{r.model || '—'}</td>
                  <td>{r.firmware || '—'}</td>
                  <td class="num">{r.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
