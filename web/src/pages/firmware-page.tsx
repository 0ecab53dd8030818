// The firmware page: the versions the fleet runs, the server's catalog of verified packages
// (upload, remove, sync, trust), and staged rollouts — started here and followed live. Reading
// needs fleet:read; every change needs firmware:manage, and says so where it is missing.

import { useCallback, useState } from 'preact/hooks';
import type { CreatedRollout } from '../api/types';
import { CatalogPanel } from './firmware-catalog-panel';
import { InstalledFirmwarePanel } from './firmware-installed-panel';
import { RolloutDetailPanel } from './firmware-rollout-detail';
import { RolloutForm } from './firmware-rollout-form';
import { RolloutsPanel } from './firmware-rollouts-panel';
import { TrustAndSyncPanels } from './firmware-trust-panel';
import { UploadPanel } from './firmware-upload-panel';

export function FirmwarePage() {
  // Bumped when the catalog or the rollouts changed here, so every panel listing them reloads.
  const [catalogKey, setCatalogKey] = useState(0);
  const [rolloutsKey, setRolloutsKey] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);
  const catalogChanged = useCallback(() => setCatalogKey((k) => k + 1), []);
  const rolloutsChanged = useCallback(() => setRolloutsKey((k) => k + 1), []);
  const created = useCallback(
    (r: CreatedRollout) => {
      rolloutsChanged();
      setSelected(r.id);
    },
    [rolloutsChanged],
  );

  return (
    <>
      <p class="fw-intro">
        Firmware packages are signed by the vendor and verified by this server before they enter the
        catalog, and by each device again before it installs one. A rollout updates a canary group
        first, then the rest a few devices at a time, and pauses by itself when too many fail.
      </p>
      <InstalledFirmwarePanel />
      <CatalogPanel refreshKey={catalogKey} onChanged={catalogChanged} />
      <UploadPanel onUploaded={catalogChanged} />
      <RolloutsPanel refreshKey={rolloutsKey} selectedId={selected} onSelect={setSelected} />
      {selected !== null ? (
        <RolloutDetailPanel
          key={selected}
          id={selected}
          onClose={() => setSelected(null)}
          onChanged={rolloutsChanged}
        />
      ) : null}
      <RolloutForm refreshKey={catalogKey} onCreated={created} />
      <TrustAndSyncPanels onSynced={catalogChanged} />
    </>
  );
}
