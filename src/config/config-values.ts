// Checks and coerces one raw value (from a file or an environment variable) against its field spec.

import { endpointLabel, parseEndpoint } from '../diagnostics/types.js';
import type { PortRange } from './config-types.js';
import type { FieldSpec, ListItemKind, StringFormat } from './config-schema.js';

export type Checked = { ok: true; value: unknown } | { ok: false; message: string; fix: string };

export function parsePortRange(text: string): PortRange | null {
  const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(text.trim()); // trim first: no ReDoS
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return { from, to };
}

/** `fromEnv` values are strings and are coerced to the field's type; file values must already be typed. */
export function checkValue(key: string, spec: FieldSpec, raw: unknown, fromEnv: boolean): Checked {
  switch (spec.type) {
    case 'string': {
      if (raw === null || (fromEnv && raw === '')) {
        return spec.nullable
          ? { ok: true, value: null }
          : {
              ok: false,
              message: 'must not be empty',
              fix: `set ${key} to a value, e.g. "${String(spec.default)}"`,
            };
      }
      if (typeof raw !== 'string') {
        return { ok: false, message: 'must be a string', fix: `quote the value of ${key}` };
      }
      if (raw.length === 0 && !spec.nullable) {
        return {
          ok: false,
          message: 'must not be empty',
          fix: `set ${key} to a value, e.g. "${String(spec.default)}"`,
        };
      }
      if (spec.maxLength !== undefined && raw.length > spec.maxLength) {
        return {
          ok: false,
          message: `must be at most ${spec.maxLength} characters`,
          fix: `shorten ${key}`,
        };
      }
      if (raw.includes('\0')) {
        return {
          ok: false,
          message: 'must not contain NUL characters',
          fix: `remove the NUL from ${key}`,
        };
      }
      if (spec.format !== undefined && raw.length > 0) {
        const problem = FORMAT_CHECKS[spec.format](raw.trim());
        if (problem !== null) return { ok: false, message: problem.message, fix: problem.fix };
      }
      return { ok: true, value: raw.length === 0 ? null : raw };
    }
    case 'integer': {
      const n = fromEnv && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      const unit = spec.unit ? ` ${spec.unit}` : '';
      if (typeof n !== 'number' || !Number.isInteger(n) || n < spec.min || n > spec.max) {
        return {
          ok: false,
          message: `must be an integer between ${spec.min} and ${spec.max}${unit}`,
          fix: `set ${key} to a whole number in ${spec.min}–${spec.max} (default ${spec.default})`,
        };
      }
      return { ok: true, value: n };
    }
    case 'boolean': {
      let b: unknown = raw;
      if (fromEnv && typeof raw === 'string') {
        const lower = raw.trim().toLowerCase();
        b = ['true', '1', 'yes', 'on'].includes(lower)
          ? true
          : ['false', '0', 'no', 'off'].includes(lower)
            ? false
            : raw;
      }
      if (typeof b !== 'boolean') {
        return { ok: false, message: 'must be true or false', fix: `set ${key} to true or false` };
      }
      return { ok: true, value: b };
    }
    case 'enum': {
      if (typeof raw !== 'string' || !spec.values.includes(raw)) {
        return {
          ok: false,
          message: `must be one of ${spec.values.join(', ')}`,
          fix: `set ${key} to one of ${spec.values.join(', ')} (default ${spec.default})`,
        };
      }
      return { ok: true, value: raw };
    }
    case 'portRange': {
      const range =
        typeof raw === 'string'
          ? parsePortRange(raw)
          : typeof raw === 'number' && Number.isInteger(raw)
            ? { from: raw, to: raw }
            : isRangeObject(raw)
              ? raw
              : null;
      const fix = `set ${key} to "FROM-TO" with 1 ≤ FROM ≤ TO ≤ 65535, e.g. "${spec.default}"`;
      if (!range) return { ok: false, message: 'must be a port range "FROM-TO"', fix };
      if (range.from < 1 || range.to > 65535 || range.from > range.to) {
        return {
          ok: false,
          message: 'must be a range of ports within 1–65535 with FROM ≤ TO',
          fix,
        };
      }
      return { ok: true, value: range };
    }
    case 'list':
      return checkList(key, spec.item, spec.maxItems, raw, fromEnv);
  }
}

/** Why a text is not of its format (never repeating it: a proxy URL may hold a password). */
const FORMAT_CHECKS: Record<
  StringFormat,
  (text: string) => { message: string; fix: string } | null
> = {
  proxySetting: (text) => {
    if (text === 'environment' || text === 'none') return null;
    const fix =
      'give "environment", "none" or an http:// proxy URL, e.g. http://proxy.example.com:3128';
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
    if (!URL.canParse(withScheme)) return { message: 'is not a proxy URL', fix };
    const url = new URL(withScheme);
    if (url.protocol === 'https:')
      return {
        message:
          'names an https:// proxy; only http:// proxies are supported (the tunnel carries TLS end to end)',
        fix: "use the proxy's plain HTTP port: http://host:port",
      };
    if (url.protocol !== 'http:')
      return { message: `uses the unsupported proxy scheme ${url.protocol.slice(0, -1)}`, fix };
    if (url.hostname === '') return { message: 'names no proxy host', fix };
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '')
      return { message: 'has a path, query or fragment; a proxy URL has none', fix };
    return null;
  },
  webUrl: (text) => {
    const fix = 'give an http:// or https:// URL without user and password, or null';
    if (!URL.canParse(text)) return { message: 'is not a URL', fix };
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { message: `uses the ${url.protocol.slice(0, -1)} scheme, not http(s)`, fix };
    if (url.username !== '' || url.password !== '') return { message: 'holds credentials', fix };
    return null;
  },
};

const LIST_ITEM_MAX = 300;
const LIST_EXAMPLES: Record<ListItemKind, string> = {
  origin: 'https://mes.example.com',
  hostPattern: 'cloud.example.com:443',
  spkiPin: 'r/mIkG3eEpVdm+u/ko/cwxzOMo1bk4TyHIlByibiA5E=',
  path: '/etc/command-center/vendor.pub.pem',
  endpoint: 'cloud.example.com:443',
};
const LIST_DESCRIPTIONS: Record<ListItemKind, string> = {
  origin: 'a web origin (scheme://host[:port], no path)',
  hostPattern: 'a host pattern (host, host:port or *.domain)',
  spkiPin: 'a base64 SHA-256 pin (44 characters ending in "=")',
  path: 'a file path (no control characters)',
  endpoint: 'an endpoint (host:port, or host:port/ftp for FTP)',
};
const NORMALIZERS: Record<ListItemKind, (text: string) => string | null> = {
  origin: (text) => normalizeOrigin(text),
  hostPattern: (text) => normalizeHostPattern(text),
  spkiPin: (text) => (/^[A-Za-z0-9+/]{43}=$/.test(text.trim()) ? text.trim() : null),
  path: (text) => normalizePath(text),
  endpoint: (text) => {
    const endpoint = parseEndpoint(text);
    return endpoint === null ? null : endpointLabel(endpoint);
  },
};

/** A list from a file is an array (or one comma-separated string); from the environment, a string. */
function checkList(
  key: string,
  item: ListItemKind,
  maxItems: number,
  raw: unknown,
  fromEnv: boolean,
): Checked {
  const example = LIST_EXAMPLES[item];
  let entries: unknown[];
  if (typeof raw === 'string') {
    entries = raw
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0);
  } else if (Array.isArray(raw) && !fromEnv) {
    entries = raw;
  } else {
    return {
      ok: false,
      message: 'must be a list',
      fix: `set ${key} to a list (or a comma-separated string), e.g. ["${example}"]`,
    };
  }
  if (entries.length > maxItems) {
    return {
      ok: false,
      message: `must hold at most ${maxItems} entries`,
      fix: `shorten ${key}`,
    };
  }
  const values: string[] = [];
  for (const entry of entries) {
    const normalized =
      typeof entry === 'string' && entry.length <= LIST_ITEM_MAX ? NORMALIZERS[item](entry) : null;
    if (normalized === null) {
      const shown = typeof entry === 'string' ? entry.slice(0, 80) : typeof entry;
      return {
        ok: false,
        message: `holds "${shown}", which is not ${LIST_DESCRIPTIONS[item]}`,
        fix: `write each entry of ${key} like "${example}"`,
      };
    }
    if (!values.includes(normalized)) values.push(normalized);
  }
  return { ok: true, value: values };
}

/** A file path, trimmed; null when empty or holding a control character (NUL among them). */
export function normalizePath(text: string): string | null {
  const trimmed = text.trim();
  return trimmed.length === 0 || /[\u0000-\u001f\u007f]/.test(trimmed) ? null : trimmed;
}

/** An origin as browsers send it: lower-case scheme and host, no default port, no path. */
export function normalizeOrigin(text: string): string | null {
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(text)) return null;
  try {
    const url = new URL(text);
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}

/** `host`, `host:port` or `*.domain[:port]`, lower-case; IPv6 literals in brackets. */
export function normalizeHostPattern(text: string): string | null {
  const lower = text.trim().toLowerCase();
  const m = /^(\*\.)?([a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/.exec(lower);
  if (!m) return null;
  const [, wildcard, host, port] = m;
  if (host === undefined || host.startsWith('.') || host.endsWith('.') || host.includes('..')) {
    return null;
  }
  if (wildcard && host.startsWith('[')) return null;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  return lower;
}

function isRangeObject(raw: unknown): raw is PortRange {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as Record<string, unknown>;
  return (
    Object.keys(r).every((k) => k === 'from' || k === 'to') &&
    Number.isInteger(r.from) &&
    Number.isInteger(r.to)
  );
}
