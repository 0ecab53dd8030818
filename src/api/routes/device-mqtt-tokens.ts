// A device's MQTT token: issue or rotate (shown once, stored hashed), see when it was issued, and
// revoke. A device connected with a token that was replaced or revoked is disconnected at once.

import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { issueDeviceToken } from '../../broker/index.js';
import { CcError, isValidDeviceId } from '../../domain/index.js';
import type { ApiApp, ApiDeps } from '../api-types.js';
import { assertDeviceVisible } from '../device-scope.js';
import { actorOf, principalOf } from '../route-guard.js';
import { ErrorSchema, IdParamsSchema, authErrors } from '../schemas.js';

const TokenStatusSchema = Type.Object({
  deviceId: Type.String(),
  issuedAt: Type.String(),
  connected: Type.Boolean({ description: 'Whether the device is connected over MQTT now.' }),
});

function checkId(id: string): string {
  if (!isValidDeviceId(id)) {
    throw new CcError(
      'VALIDATION_FAILED',
      'a device id is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return id;
}

export function registerDeviceMqttTokenRoutes(
  app: ApiApp,
  deps: Pick<ApiDeps, 'store' | 'mqtt' | 'ingest'>,
): void {
  const { store } = deps;
  const scope = { fleet: deps.ingest.fleet, store };

  /** A valid device id the caller may see (a scoped admin cannot provision devices of no site). */
  async function visibleId(request: Parameters<typeof principalOf>[0], id: string) {
    const deviceId = checkId(id);
    await assertDeviceVisible(principalOf(request), scope, deviceId);
    return deviceId;
  }

  async function audit(
    request: Parameters<typeof actorOf>[0],
    action: string,
    deviceId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    const actor = actorOf(request);
    await store.audit.append({
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: actor.name,
      action,
      target: deviceId,
      outcome: 'ok',
      source: actor.source,
      details,
    });
  }

  app.post(
    '/api/v1/devices/:id/mqtt-token',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Issue or rotate the device’s MQTT token (shown once)',
        description:
          'The previous token stops working at once and a device connected with it is ' +
          'disconnected. The token is returned only in this answer; only its hash is stored.',
        params: IdParamsSchema,
        response: {
          201: Type.Object({
            deviceId: Type.String(),
            token: Type.String(),
            issuedAt: Type.String(),
            rotated: Type.Boolean(),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const deviceId = await visibleId(request, request.params.id);
      const previous = await store.deviceCredentials.get(deviceId);
      const token = await issueDeviceToken(store.deviceCredentials, deviceId);
      const issued = await store.deviceCredentials.get(deviceId);
      const disconnected = previous !== undefined && (deps.mqtt?.disconnect(deviceId) ?? false);
      await audit(request, previous ? 'device.token.rotate' : 'device.token.issue', deviceId, {
        disconnected,
      });
      return reply.code(201).send({
        deviceId,
        token,
        issuedAt: issued?.createdAt ?? new Date().toISOString(),
        rotated: previous !== undefined,
      });
    },
  );

  app.get(
    '/api/v1/devices/:id/mqtt-token',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'When the device’s MQTT token was issued (never the token)',
        params: IdParamsSchema,
        response: { 200: TokenStatusSchema, ...authErrors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const deviceId = await visibleId(request, request.params.id);
      const credential = await store.deviceCredentials.get(deviceId);
      if (credential === undefined) {
        throw new CcError('TOKEN_NOT_FOUND', `device ${deviceId} has no MQTT token`);
      }
      return {
        deviceId,
        issuedAt: credential.createdAt,
        connected: deps.mqtt?.isConnected(deviceId) ?? false,
      };
    },
  );

  app.delete(
    '/api/v1/devices/:id/mqtt-token',
    {
      config: { permission: 'devices:manage' },
      schema: {
        tags: ['devices'],
        summary: 'Revoke the device’s MQTT token and disconnect it',
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...authErrors, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const deviceId = await visibleId(request, request.params.id);
      const credential = await store.deviceCredentials.get(deviceId);
      if (credential === undefined) {
        throw new CcError('TOKEN_NOT_FOUND', `device ${deviceId} has no MQTT token`);
      }
      await store.deviceCredentials.remove(deviceId);
      const disconnected = deps.mqtt?.disconnect(deviceId) ?? false;
      await audit(request, 'device.token.revoke', deviceId, { disconnected });
      return reply.code(204).send(null);
    },
  );
}
