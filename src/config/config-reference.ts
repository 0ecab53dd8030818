// Renders docs/configuration.md's key table from the schema, so the docs cannot drift from the code.

import { envName, listFields, type FieldSpec, type ListItemKind } from './config-schema.js';

const LIST_NOUNS: Record<ListItemKind, string> = {
  origin: 'origins',
  hostPattern: 'host patterns',
  spkiPin: 'SPKI SHA-256 pins',
  path: 'file paths',
  endpoint: 'endpoints',
};

function describeType(spec: FieldSpec): string {
  switch (spec.type) {
    case 'string':
      return spec.nullable ? 'string or null' : 'string';
    case 'integer':
      return `integer ${spec.min}–${spec.max}${spec.unit ? ` ${spec.unit}` : ''}`;
    case 'boolean':
      return 'boolean';
    case 'enum':
      return spec.values.join(' \\| ');
    case 'portRange':
      return 'port range "FROM-TO"';
    case 'list':
      return `list of ${LIST_NOUNS[spec.item]} (at most ${spec.maxItems}; comma-separated in the environment)`;
  }
}

export function renderConfigReference(): string {
  const rows = listFields().map(
    ([key, spec]) =>
      `| \`${key}\` | ${describeType(spec)} | \`${JSON.stringify(spec.default)}\` | \`${envName(key)}\` | ${spec.description} |`,
  );
  return [
    '| key | type | default | environment | description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
