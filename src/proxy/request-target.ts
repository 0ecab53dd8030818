// The request target of an API Proxy call, parsed and normalised once: only the origin form
// `/devices/<id>/ws/v1/<path>[?query]`. Whatever could make the path mean one thing to the scope
// check and another to a device — absolute or authority forms, dot segments (plain or encoded),
// encoded slashes and backslashes, double slashes, NUL and control characters, double encoding —
// is refused, never "cleaned up". The scope is matched against the decoded segments, and the device
// receives exactly those segments re-encoded canonically, so both see the same path.

import { CcError } from '../domain/index.js';

export interface ProxyTarget {
  deviceId: string;
  /** Decoded segments of the device path, starting `['ws', 'v1', …]`. */
  segments: string[];
  /** The device path, canonically percent-encoded: `/ws/v1/jobs/job-7/pause`. */
  path: string;
  /** `?…` as sent (validated), or ''. */
  query: string;
}

/** Longest request target accepted. */
export const MAX_TARGET_LENGTH = 4096;
const MAX_SEGMENT_LENGTH = 256;

// Printable ASCII but space; Node's parser has already refused most else, this is the contract.
const PRINTABLE = /^[\x21-\x7e]*$/;
const PERCENT = /%(?![0-9A-Fa-f]{2})/;
// Encoded '.', '/', '\', '%' (double encoding) and C0 controls/DEL never appear in a valid path.
const FORBIDDEN_ESCAPE = /%(?:2[EeFf5]|5[Cc]|[01][0-9A-Fa-f]|7[Ff])/;

function bad(message: string): CcError {
  return new CcError('PROXY_BAD_TARGET', message);
}

function notARoute(): CcError {
  return new CcError('ROUTE_NOT_FOUND', 'the API Proxy serves only /devices/<id>/ws/v1/<path>');
}

/** The canonical encoding of one decoded segment (what a device decodes back to `segment`). */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Parses `req.url`. Throws PROXY_BAD_TARGET (400) for anything ambiguous or hostile and
 * ROUTE_NOT_FOUND (404) for a well-formed path that is not a proxy route.
 */
export function parseProxyTarget(raw: string): ProxyTarget {
  if (raw.length === 0 || raw.length > MAX_TARGET_LENGTH) {
    throw bad(`the request target is empty or longer than ${MAX_TARGET_LENGTH} characters`);
  }
  if (!raw.startsWith('/') || raw.startsWith('//')) {
    // Absolute form (http://host/…), authority form (host:port), asterisk form (*) or a
    // scheme-relative path: the proxy never takes a destination from the request.
    throw bad(
      'only origin-form targets (/devices/<id>/ws/v1/…) are accepted; the proxy is not an open proxy',
    );
  }
  if (!PRINTABLE.test(raw)) throw bad('the request target holds control or non-ASCII characters');
  if (raw.includes('#')) throw bad('the request target holds a fragment');
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q);
  if (pathPart.includes('\\')) throw bad('backslashes are not allowed in the path');
  if (PERCENT.test(raw)) throw bad('the request target holds a malformed percent-encoding');
  if (FORBIDDEN_ESCAPE.test(pathPart)) {
    throw bad(
      'encoded dots, slashes, backslashes, percent signs and control characters are not allowed in the path',
    );
  }
  if (pathPart === '/') throw notARoute();
  const rawSegments = pathPart.slice(1).split('/');
  const segments: string[] = [];
  for (const rawSegment of rawSegments) {
    if (rawSegment === '') throw bad('empty path segments (// or a trailing /) are not allowed');
    let segment: string;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      throw bad('the path is not valid percent-encoded UTF-8');
    }
    if (segment === '.' || segment === '..') throw bad('dot segments are not allowed in the path');
    if (segment.length > MAX_SEGMENT_LENGTH) {
      throw bad(`a path segment is longer than ${MAX_SEGMENT_LENGTH} characters`);
    }
    // Device paths and ids are printable ASCII. Anything else after decoding — controls, or
    // look-alikes such as a fullwidth dot that a device might normalise into '.' — is refused.
    if (!/^[\x20-\x7e]*$/.test(segment)) {
      throw bad('the decoded path holds control or non-ASCII characters');
    }
    segments.push(segment);
  }
  const [root, deviceId, ws, version, ...rest] = segments;
  if (
    root !== 'devices' ||
    deviceId === undefined ||
    ws !== 'ws' ||
    version !== 'v1' ||
    rest.length === 0
  ) {
    throw notARoute();
  }
  const deviceSegments = ['ws', 'v1', ...rest];
  return {
    deviceId,
    segments: deviceSegments,
    path: `/${deviceSegments.map(encodeSegment).join('/')}`,
    query,
  };
}
