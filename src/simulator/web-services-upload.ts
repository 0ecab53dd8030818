// POST /ws/v1/firmware, the one Web Services route with a streamed body: a firmware package of up
// to the device's limit rather than 64 KiB. The credential, method and media type are checked before
// a byte of the body is read; the answer says what the device made of the transfer, and
// verification and installation go on after it (GET /ws/v1/firmware/status follows them).

import type { Readable } from 'node:stream';
import type { WsActionResult } from '../domain/index.js';
import {
  REALM_HEADER,
  wsError,
  type WsDeviceBackend,
  type WsResponse,
} from './web-services-routes.js';

export interface FirmwareUploadRequest {
  method: string;
  /** True when the request carried the device's admin credential. */
  authorized: boolean;
  contentType: string | undefined;
  contentLength: string | undefined;
  body: Readable;
}

const PACKAGE_TYPE = /^application\/octet-stream\s*(;.*)?$/i;

export async function routeFirmwareUpload(
  backend: WsDeviceBackend,
  req: FirmwareUploadRequest,
): Promise<WsResponse> {
  if (!req.authorized) {
    return wsError(401, 'UNAUTHORIZED', 'the admin credential is required', REALM_HEADER);
  }
  if (req.method !== 'POST') {
    return wsError(405, 'METHOD_NOT_ALLOWED', 'use POST on this resource', { Allow: 'POST' });
  }
  if (req.contentType === undefined || !PACKAGE_TYPE.test(req.contentType.trim())) {
    return wsError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send the package as Content-Type: application/octet-stream',
    );
  }
  // Node's parser has already refused a malformed Content-Length; none means a chunked body.
  const declared = req.contentLength === undefined ? null : Number(req.contentLength);
  const outcome = await backend.firmwareUpload(req.body, declared);
  if (outcome.ok) {
    const result: WsActionResult = { accepted: true, message: outcome.message, ts: backend.time() };
    return { status: 202, body: result };
  }
  switch (outcome.reason) {
    case 'busy':
      return wsError(409, 'REJECTED', outcome.message);
    case 'too-large':
      return wsError(413, 'PAYLOAD_TOO_LARGE', outcome.message);
    case 'interrupted':
      return wsError(400, 'BAD_REQUEST', outcome.message);
  }
}
