// The validated configuration as a TypeBox (JSON Schema) object, derived from CONFIG_SCHEMA so the
// two cannot disagree: the loader checks its result against it, and the API can publish it.

import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { AppConfig } from './config-types.js';
import { CONFIG_SCHEMA, isFieldSpec, type FieldSpec, type SectionSpec } from './config-schema.js';
import { parsePortRange } from './config-values.js';

function fieldSchema(spec: FieldSpec): TSchema {
  const doc = { description: spec.description };
  switch (spec.type) {
    case 'string': {
      const text = Type.String({ minLength: 1, maxLength: spec.maxLength ?? 4096 });
      return spec.nullable
        ? Type.Union([text, Type.Null()], { ...doc, default: spec.default })
        : Type.String({
            ...doc,
            minLength: 1,
            maxLength: spec.maxLength ?? 4096,
            default: spec.default,
          });
    }
    case 'integer':
      return Type.Integer({ ...doc, minimum: spec.min, maximum: spec.max, default: spec.default });
    case 'boolean':
      return Type.Boolean({ ...doc, default: spec.default });
    case 'enum':
      return Type.Union(
        spec.values.map((v) => Type.Literal(v)),
        { ...doc, default: spec.default },
      );
    case 'portRange': {
      const port = Type.Integer({ minimum: 1, maximum: 65535 });
      return Type.Object(
        { from: port, to: port },
        { ...doc, default: parsePortRange(spec.default), additionalProperties: false },
      );
    }
    case 'list':
      return Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
        ...doc,
        maxItems: spec.maxItems,
        default: [...spec.default],
      });
  }
}

function sectionSchema(spec: SectionSpec): TSchema {
  const properties: Record<string, TSchema> = {};
  for (const [key, child] of Object.entries(spec)) {
    properties[key] = isFieldSpec(child) ? fieldSchema(child) : sectionSchema(child);
  }
  return Type.Object(properties, { additionalProperties: false });
}

/** JSON Schema of AppConfig: every key with its default, limits and description. */
export const APP_CONFIG_SCHEMA: TSchema = sectionSchema(CONFIG_SCHEMA);

export function isAppConfig(value: unknown): value is AppConfig {
  if (!Value.Check(APP_CONFIG_SCHEMA, value)) return false;
  // Rules a JSON Schema cannot state: ranges run upwards.
  const ports = (value as AppConfig).ports;
  return Object.values(ports).every((r) => r.from <= r.to);
}
