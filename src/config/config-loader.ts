// Loads the configuration: defaults < file (YAML or JSON) < CC_* environment < overrides (flags),
// validated against the one schema. Every problem is collected and reported together.

import type { AppConfig } from './config-types.js';
import { isAppConfig } from './config-json-schema.js';
import {
  CONFIG_SCHEMA,
  envName,
  keyForEnvName,
  isFieldSpec,
  listFields,
  type FieldSpec,
  type SectionSpec,
} from './config-schema.js';
import { ConfigError, showValue, type ConfigIssue } from './config-issues.js';
import { checkValue } from './config-values.js';
import { readConfigFile } from './config-file.js';
import { suggestKey } from './suggest-key.js';

/** Environment variables of ours that are not configuration keys. */
const NON_KEY_ENV = new Set(['CC_CONFIG', 'CC_DEBUG']);

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv | Record<string, string | undefined>;
  /** Highest precedence (command-line flags): a partial, typed configuration. */
  overrides?: Record<string, unknown>;
}

export interface LoadResult {
  config: AppConfig;
}

type Tree = Record<string, unknown>;

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a file's tree against the schema, writing valid values into `target`. */
function applyTree(
  tree: unknown,
  spec: SectionSpec,
  prefix: string,
  target: Tree,
  source: string,
  issues: ConfigIssue[],
): void {
  if (tree === null || tree === undefined) return;
  if (!isPlainObject(tree)) {
    issues.push({
      key: prefix || '(root)',
      value: showValue(prefix, tree),
      message: 'must be a mapping of keys to values',
      fix: prefix
        ? `write ${prefix} as a section with keys`
        : 'the file must hold a mapping at its top level',
      source,
    });
    return;
  }
  for (const [key, raw] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const child = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (!child) {
      const suggestion = suggestKey(key, Object.keys(spec));
      issues.push({
        key: path,
        value: showValue(path, raw),
        message: 'is not a known configuration key',
        fix: suggestion
          ? `did you mean ${prefix ? `${prefix}.` : ''}${suggestion}?`
          : `remove ${path} (see docs/configuration.md)`,
        source,
      });
      continue;
    }
    if (isFieldSpec(child)) {
      applyField(path, child, raw, false, target, source, issues);
    } else {
      applyTree(raw, child, path, target, source, issues);
    }
  }
}

function applyField(
  path: string,
  spec: FieldSpec,
  raw: unknown,
  fromEnv: boolean,
  target: Tree,
  source: string,
  issues: ConfigIssue[],
): void {
  const checked = checkValue(path, spec, raw, fromEnv);
  if (checked.ok) target[path] = checked.value;
  else
    issues.push({
      key: path,
      value: showValue(path, raw),
      message: checked.message,
      fix: checked.fix,
      source,
    });
}

function setPath(root: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (isPlainObject(next)) node = next;
    else {
      const created: Tree = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1] ?? path] = value;
}

/**
 * Other CC_* variables may belong to other tools, but one naming a configuration section
 * (`CC_INGEST__…`) is certainly a misspelt key, and silently ignoring it would hide the typo.
 */
function unknownEnvIssue(name: string, raw: string, known: string[], issues: ConfigIssue[]): void {
  const section = /^CC_([A-Z0-9_]+?)__/.exec(name)?.[1];
  if (section === undefined || !known.some((k) => k.startsWith(`CC_${section}__`))) return;
  const suggestion = suggestKey(name, known);
  issues.push({
    key: keyForEnvName(name) ?? name,
    value: showValue(name, raw),
    message: `${name} is not a known configuration variable`,
    fix: suggestion ? `did you mean ${suggestion}?` : `unset ${name} (see docs/configuration.md)`,
    source: `env ${name}`,
  });
}

function crossFieldIssues(values: Map<string, unknown>, issues: ConfigIssue[]): void {
  const cert = values.get('tls.certFile');
  const key = values.get('tls.keyFile');
  if ((cert === null) !== (key === null)) {
    issues.push({
      key: cert === null ? 'tls.certFile' : 'tls.keyFile',
      value: '(missing)',
      message: 'tls.certFile and tls.keyFile go together',
      fix: 'set both tls.certFile and tls.keyFile, or neither to use a generated certificate',
      source: 'configuration',
    });
  }
  if (values.get('store.driver') === 'postgres' && values.get('store.postgresUrl') === null) {
    issues.push({
      key: 'store.postgresUrl',
      value: '(missing)',
      message: 'is required when store.driver is postgres',
      fix: 'set store.postgresUrl to postgres://user:password@host:5432/database',
      source: 'configuration',
    });
  }
}

/** Collects every issue without throwing; `config` is set only when there are none. */
export function resolveConfig(options: LoadOptions = {}): {
  config?: AppConfig;
  issues: ConfigIssue[];
} {
  const issues: ConfigIssue[] = [];
  const values = new Map<string, unknown>();
  const fields = listFields();
  for (const [path, spec] of fields) {
    const checked = checkValue(path, spec, spec.default, false);
    values.set(path, checked.ok ? checked.value : spec.default);
  }

  const env = options.env ?? {};
  const file = options.file ?? env.CC_CONFIG;
  if (file) {
    const layer: Tree = {};
    applyTree(readConfigFile(file, issues), CONFIG_SCHEMA, '', layer, `file ${file}`, issues);
    for (const [k, v] of Object.entries(layer)) values.set(k, v);
  }

  const byEnv = new Map(fields.map(([path, spec]) => [envName(path), [path, spec] as const]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('CC_') || NON_KEY_ENV.has(name) || raw === undefined) continue;
    const field = byEnv.get(name);
    if (!field) {
      unknownEnvIssue(name, raw, [...byEnv.keys()], issues);
      continue;
    }
    const layer: Tree = {};
    applyField(field[0], field[1], raw, true, layer, `env ${name}`, issues);
    for (const [k, v] of Object.entries(layer)) values.set(k, v);
  }

  if (options.overrides) {
    const layer: Tree = {};
    applyTree(options.overrides, CONFIG_SCHEMA, '', layer, 'command line', issues);
    for (const [k, v] of Object.entries(layer)) values.set(k, v);
  }

  crossFieldIssues(values, issues);
  if (issues.length > 0) return { issues };
  const tree: Tree = {};
  for (const [path, value] of values) setPath(tree, path, value);
  if (!isAppConfig(tree)) {
    // Every value was checked field by field; this guards the assembly itself.
    issues.push({
      key: '(root)',
      value: '(assembled configuration)',
      message: 'does not match the configuration schema',
      fix: 'report this as a bug in Command Center',
      source: 'configuration',
    });
    return { issues };
  }
  return { config: tree, issues };
}

/** Loads and validates the configuration; throws ConfigError (CONFIG_INVALID) listing every issue. */
export function loadConfig(options: LoadOptions = {}): LoadResult {
  const { config, issues } = resolveConfig(options);
  if (!config) throw new ConfigError(issues);
  return { config };
}
