// The contract every Store implementation must pass (SQLite now, PostgreSQL later): call
// `describeStoreContract` from an implementation's test file with a function opening a fresh store.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accessContract } from './contract/access-contract.js';
import { accountsContract } from './contract/accounts-contract.js';
import { batchContract } from './contract/batch-contract.js';
import { deviceContract } from './contract/device-contract.js';
import { firmwareContract } from './contract/firmware-contract.js';
import { historyContract } from './contract/history-contract.js';
import { metricContract } from './contract/metric-contract.js';
import { registryContract } from './contract/registry-contract.js';
import { uplinkContract } from './contract/uplink-contract.js';
import type { Store } from './store.js';

export interface OpenedStore {
  /** An empty, not yet migrated store. */
  store: Store;
  /** Closes the store and removes what `open` created. */
  cleanup: () => Promise<void>;
}

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore | undefined;
    const store = (): Store => {
      if (opened === undefined) throw new Error('the store is not open');
      return opened.store;
    };

    beforeEach(async () => {
      opened = await open();
      await opened.store.migrate();
    });

    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    it('migrates again without error or change', async () => {
      await store().devices.upsert({
        id: 'dev-1',
        kind: 'printer',
        model: 'm',
        serial: 's',
        name: 'n',
        siteId: null,
        firmwareVersion: '1',
        address: null,
        state: 'idle',
        lastSeenAt: null,
        stateAt: null,
      });
      await store().migrate();
      expect(await store().devices.all()).toHaveLength(1);
    });

    deviceContract(store);
    historyContract(store);
    batchContract(store);
    metricContract(store);
    accessContract(store);
    registryContract(store);
    accountsContract(store);
    uplinkContract(store);
    firmwareContract(store);
  });
}
