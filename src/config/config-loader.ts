// Loads the configuration: defaults < file (YAML or JSON) < CC_* environment < overrides (flags),
// validated against the one schema. Every problem is collected and reported together.

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { AppConfig } from './config-types.js';
import {
  CONFIG_SCHEMA,
  envName,
  isFieldSpec,
  listFields,
  type FieldSpec,
  type SectionSpec,
} from './config-schema.js';
import { ConfigError, showValue, type ConfigIssue } from './config-issues.js';
import { checkValue } from './config-values.js';
import { suggestKey } from './suggest-key.js';

const MAX_FILE_BYTES = 1024 * 1024;
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

function readConfigFile(file: string, issues: ConfigIssue[]): unknown {
  const source = `file ${file}`;
  const fail = (message: string, fix: string): undefined => {
    issues.push({ key: '(file)', value: JSON.stringify(file), message, fix, source });
    return undefined;
  };
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return fail(
      'cannot be read (missing or not accessible)',
      'check the path given to --config or CC_CONFIG',
    );
  }
  if (size > MAX_FILE_BYTES)
    return fail(`is larger than ${MAX_FILE_BYTES} bytes`, 'use a configuration file under 1 MiB');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail('cannot be read', 'check the file permissions');
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      return fail(
        `is not valid JSON: ${(err as Error).message}`,
        'fix the JSON syntax at the position shown',
      );
    }
  }
  if (ext !== '.yaml' && ext !== '.yml') {
    return fail('has an unknown extension', 'name it .yaml, .yml or .json');
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
      fail(
        `is not valid YAML at ${where}: ${e.message.split('\n')[0] ?? ''}`,
        'fix the YAML syntax at that line',
      );
    }
    return undefined;
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    // The yaml library refuses alias expansion bombs here rather than at parse time.
    return fail(
      `cannot be expanded: ${(err as Error).message}`,
      'remove the repeated YAML aliases',
    );
  }
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
    if (!field) continue;
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
  return { config: tree as unknown as AppConfig, issues };
}

/** Loads and validates the configuration; throws ConfigError (CONFIG_INVALID) listing every issue. */
export function loadConfig(options: LoadOptions = {}): LoadResult {
  const { config, issues } = resolveConfig(options);
  if (!config) throw new ConfigError(issues);
  return { config };
}
