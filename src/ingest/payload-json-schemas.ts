// Exports the payload schemas as JSON Schema files (docs/schemas/) for device makers' tooling.
// Regenerate after changing payload-schemas.ts: `npx tsx src/ingest/payload-json-schemas.ts`
// (a test fails while the committed files differ from what this produces).

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from 'typebox';
import {
  EventMessageSchema,
  StateMessageSchema,
  TelemetryMessageSchema,
} from './payload-schemas.js';

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export const PAYLOAD_SCHEMA_DIR = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../docs/schemas',
);

function render(schema: TSchema): string {
  // JSON round trip drops TypeBox's internal symbols; `$schema` names the dialect for validators.
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return `${JSON.stringify({ $schema: DIALECT, ...plain }, null, 2)}\n`;
}

/** File name → contents of every payload schema file. */
export function payloadJsonSchemaFiles(): Record<string, string> {
  return {
    'mqtt-state.schema.json': render(StateMessageSchema),
    'mqtt-telemetry.schema.json': render(TelemetryMessageSchema),
    'mqtt-events.schema.json': render(EventMessageSchema),
  };
}

export async function writePayloadJsonSchemas(dir = PAYLOAD_SCHEMA_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(payloadJsonSchemaFiles())) {
    const file = join(dir, name);
    await writeFile(file, text);
    written.push(file);
  }
  return written;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of await writePayloadJsonSchemas()) process.stdout.write(`wrote ${file}\n`);
}
