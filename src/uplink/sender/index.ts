// The uplink's outgoing HTTPS sender: one JSON payload per connection, to allow-listed endpoints
// only, directly or through the site's HTTP proxy (CONNECT), TLS 1.2+ with optional SPKI pins; and
// streamed downloads over the same connection code (the firmware catalog sync).

export {
  postJson,
  retryAfterOf,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  type SendPolicy,
  type SendResult,
} from './post-json.js';
export { openDownload, type Download, type DownloadPolicy } from './get-stream.js';
export { SendError, isSendError, redactProxyUrl, type SendErrorKind } from './send-error.js';
export { resolveProxy, parseProxyUrl, type ProxyChoice } from './proxy-choice.js';
export { matchesNoProxy, invalidNoProxyEntries } from './no-proxy.js';
export { isAllowed, invalidAllowPatterns } from './allow-list.js';
export { spkiPin, normalizePin } from './spki-pin.js';
