// Reads a configuration file (YAML or JSON) into an untrusted tree, refusing what would be costly
// or dangerous to parse: files over 1 MiB, deep nesting, alias expansion bombs.

import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { ConfigIssue } from './config-issues.js';

const MAX_FILE_BYTES = 1024 * 1024;
/** The schema is two levels deep; anything past this is not a configuration. */
const MAX_FLOW_DEPTH = 64;
/** A broken file can yield one error per line; the first few say what is wrong. */
const MAX_SYNTAX_ERRORS = 5;

/**
 * Deepest nesting of [ ] and { } outside quotes and comments. The yaml parser recurses per level
 * and takes seconds to hit the stack limit on a 1 MiB file of brackets; this scan is linear.
 */
export function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return max;
}

export function readConfigFile(file: string, issues: ConfigIssue[]): unknown {
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
  if (flowDepth(text) > MAX_FLOW_DEPTH)
    return fail(
      `nests values deeper than ${MAX_FLOW_DEPTH} levels`,
      'configuration values are at most two levels deep; remove the nesting',
    );
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
    for (const e of doc.errors.slice(0, MAX_SYNTAX_ERRORS)) {
      const pos = e.linePos?.[0];
      const where = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
      fail(
        `is not valid YAML at ${where}: ${e.message.split('\n')[0] ?? ''}`,
        'fix the YAML syntax at that line',
      );
    }
    if (doc.errors.length > MAX_SYNTAX_ERRORS)
      fail(
        `has ${doc.errors.length - MAX_SYNTAX_ERRORS} more YAML errors`,
        'fix the errors above first',
      );
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
