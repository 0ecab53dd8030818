// Ingest: device MQTT messages in, validated fleet changes out (see ingest-types.ts for the contract).
export * from './ingest-types.js';
export { createIngest, type IngestConfig, type IngestDeps } from './ingest.js';
export {
  MAX_PAYLOAD_BYTES,
  parsePayload,
  type ParseResult,
  type ParsedMessage,
} from './payload-parser.js';
export { PAYLOAD_LIMITS } from './payload-schemas.js';
export { payloadJsonSchemaFiles, writePayloadJsonSchemas } from './payload-json-schemas.js';
