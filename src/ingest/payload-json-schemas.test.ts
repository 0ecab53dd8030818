import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SCHEMA_DIR, payloadJsonSchemaFiles } from './payload-json-schemas.js';

describe('payload JSON Schemas in docs/schemas', () => {
  it.each(Object.entries(payloadJsonSchemaFiles()))(
    '%s is up to date (regenerate: npx tsx src/ingest/payload-json-schemas.ts)',
    async (name, text) => {
      const committed: unknown = JSON.parse(await readFile(join(PAYLOAD_SCHEMA_DIR, name), 'utf8'));
      expect(committed).toEqual(JSON.parse(text));
    },
  );
});
