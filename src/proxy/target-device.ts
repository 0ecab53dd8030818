// Where a proxied call goes: only to a registered device with a Web Services address and an
// approved certificate pin, at the address and with the credential the registry holds. Nothing in
// the request (Host, X-Forwarded-*, an absolute URI) can name another destination. A device outside
// the caller's sites is reported exactly like one that does not exist, so sites are not revealed.

import { CcError, type FleetReader } from '../domain/index.js';
import type { DeviceEndpoint, DeviceRegistry } from '../devices/index.js';

export interface TargetDeviceDeps {
  registry: Pick<DeviceRegistry, 'get' | 'endpoint'>;
  /** Known devices (MQTT-only ones have no registration) and their sites. */
  fleet?: Pick<FleetReader, 'get'> | undefined;
}

export async function resolveTargetDevice(
  deps: TargetDeviceDeps,
  deviceId: string,
  sites: readonly string[] | null,
): Promise<DeviceEndpoint> {
  const notFound = () => new CcError('DEVICE_NOT_FOUND', `no device ${deviceId}`);
  const registration = await deps.registry.get(deviceId);
  const known = deps.fleet?.get(deviceId);
  if (registration === undefined && known === undefined) throw notFound();
  const siteId = registration?.siteId ?? known?.siteId ?? null;
  if (sites !== null && (siteId === null || !sites.includes(siteId))) throw notFound();
  if (registration?.baseUrl == null) {
    throw new CcError(
      'DEVICE_NO_WEB_SERVICES',
      `device ${deviceId} has no Web Services address registered (an admin adds it under Devices)`,
    );
  }
  switch (registration.pinState) {
    case 'pinned':
      break;
    case 'mismatch':
      throw new CcError(
        'DEVICE_NOT_APPROVED',
        `device ${deviceId} presented a changed certificate; an admin must approve it first`,
      );
    case 'pending':
    case 'none':
      throw new CcError(
        'DEVICE_NOT_APPROVED',
        `device ${deviceId} has no approved certificate yet; an admin must approve it first`,
      );
  }
  const endpoint = await deps.registry.endpoint(deviceId);
  if (endpoint === undefined) {
    throw new CcError(
      'DEVICE_NOT_APPROVED',
      `device ${deviceId} has no stored credential; an admin must set it first`,
    );
  }
  return endpoint;
}
