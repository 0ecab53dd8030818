// The device side of the Web Services routes: reads the same DeviceModel the MQTT channel reports
// from, brought up to the device's clock first, sends actions through the device's one action path
// (so their events and state also go out over MQTT) and hands firmware packages to its updater.

import { toIso } from '../domain/index.js';
import type { DeviceFirmware } from './device-firmware.js';
import type { CommandOutcome, DeviceModel } from './device-model.js';
import type { DeviceRequest } from './mqtt-command.js';
import type { WsDeviceBackend } from './web-services-routes.js';

export interface WsBackendHooks {
  /** Advances the model to now (publishing what happened over MQTT when connected). */
  refresh(): void;
  perform(request: DeviceRequest): CommandOutcome;
}

export function createWsBackend(
  model: DeviceModel,
  firmware: DeviceFirmware,
  hooks: WsBackendHooks,
): WsDeviceBackend {
  const current = () => {
    hooks.refresh();
    return model.snapshot();
  };
  return {
    identity: () => ({
      id: model.id,
      kind: model.kind,
      model: model.identity.model,
      serial: model.identity.serial,
      name: model.identity.name,
      firmwareVersion: model.identity.firmwareVersion,
      apiVersion: 1,
    }),
    status() {
      const s = current();
      return {
        ts: s.ts,
        state: s.state,
        name: s.name,
        firmwareVersion: s.firmwareVersion,
        job: s.job ?? null,
      };
    },
    consumables() {
      const s = current();
      return { ts: s.ts, consumables: s.consumables ?? [] };
    },
    alerts() {
      const s = current();
      return { ts: s.ts, alerts: s.alerts ?? [] };
    },
    jobs(sinceMs) {
      hooks.refresh();
      return { ts: toIso(model.time()), jobs: model.jobsChangedSince(sinceMs) };
    },
    jobAction: (jobId, action) => hooks.perform({ action, jobId }),
    acknowledgeAlert: (alertId) => hooks.perform({ action: 'acknowledge', alertId }),
    firmwareStatus() {
      hooks.refresh();
      return {
        ts: toIso(model.time()),
        firmwareVersion: model.identity.firmwareVersion,
        ...firmware.report(),
      };
    },
    async firmwareUpload(body, declaredBytes) {
      const outcome = await firmware.receive(body, declaredBytes);
      // The answer's ts is device time now, after a transfer that may have taken a while.
      hooks.refresh();
      return outcome;
    },
    time: () => toIso(model.time()),
  };
}
