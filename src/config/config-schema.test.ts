import fc from 'fast-check';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  APP_CONFIG_SCHEMA,
  envName,
  isAppConfig,
  keyForEnvName,
  listFields,
  loadConfig,
  resolveConfig,
} from './index.js';

const word = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const capitalWord = fc.stringMatching(/^[A-Z][a-z0-9]{1,5}$/);
const segment = fc
  .tuple(word, fc.array(capitalWord, { maxLength: 3 }))
  .map(([first, rest]) => first + rest.join(''));
const keyPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));

describe('configuration schema', () => {
  it('maps a key to its environment variable and back (property)', () => {
    fc.assert(
      fc.property(keyPath, (key) => {
        const name = envName(key);
        expect(name).toMatch(/^CC_[A-Z0-9_]+$/);
        expect(keyForEnvName(name)).toBe(key);
      }),
    );
  });

  it('maps every schema key back from its environment variable', () => {
    for (const [key] of listFields()) expect(keyForEnvName(envName(key))).toBe(key);
  });

  it('does not read names that are not of the CC_ form as keys', () => {
    for (const name of ['PATH', 'CC_', 'CC_lower', 'CC___X', 'CC_A___B', 'CC_1X']) {
      expect(keyForEnvName(name)).toBeNull();
    }
  });

  it('publishes a JSON Schema with a default and a description on every key', () => {
    const json = JSON.parse(JSON.stringify(APP_CONFIG_SCHEMA)) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    for (const [key] of listFields()) {
      const parts = key.split('.');
      let node: unknown = json;
      for (const part of parts) {
        node = (node as { properties: Record<string, unknown> }).properties[part];
      }
      expect(node, key).toHaveProperty('description');
      expect(node, key).toHaveProperty('default');
    }
  });

  it('accepts every configuration the loader produces and rejects broken ones', () => {
    const { config } = loadConfig({ env: {} });
    expect(Value.Check(APP_CONFIG_SCHEMA, config)).toBe(true);
    expect(isAppConfig(config)).toBe(true);
    expect(isAppConfig({ ...config, ports: { ...config.ports, http: { from: 9, to: 1 } } })).toBe(
      false,
    );
    expect(isAppConfig({ ...config, extra: 1 })).toBe(false);
    expect(isAppConfig({ ...config, demo: { enabled: true, devices: -1 } })).toBe(false);
  });

  it('accepts any valid integer for an integer key through the environment (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (n) => {
        const { config } = loadConfig({ env: { CC_INGEST__BATCH_DELAY_MS: String(n) } });
        return config.ingest.batchDelayMs === n;
      }),
    );
  });

  it('reports a misspelt variable of a known section with a suggestion', () => {
    const { issues } = resolveConfig({
      env: { CC_INGEST__BATCH_DELAI_MS: '5', CC_SOMETHING_ELSE: 'x', CC_DEBUG: '1' },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.source).toBe('env CC_INGEST__BATCH_DELAI_MS');
    expect(issues[0]!.fix).toMatch(/did you mean CC_INGEST__BATCH_DELAY_MS\?/);
  });
});
