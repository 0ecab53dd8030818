// Configuration problems: each names the key, the value given, what is wrong and how to fix it.

import { CcError } from '../domain/index.js';

export interface ConfigIssue {
  key: string;
  /** The value as given (secrets masked, long values shortened). */
  value: string;
  message: string;
  fix: string;
  /** Where the value came from: `file <path>`, `env CC_…`, `flag`, or `defaults`. */
  source: string;
}

export class ConfigError extends CcError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${formatConfigIssues(issues)}`);
    this.issues = issues;
  }
}

export function formatConfigIssues(issues: ConfigIssue[]): string {
  return issues
    .map(
      (i) => `  ✗ ${i.key} = ${i.value} (${i.source})\n      ${i.message}\n      fix: ${i.fix}\n`,
    )
    .join('');
}

const SECRET_KEY = /url|proxy|password|secret|token/i;

export function showValue(key: string, value: unknown): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try {
    // JSON.stringify returns undefined for functions and symbols, which never come from config.
    const json: unknown = JSON.stringify(value);
    text = typeof json === 'string' ? json : typeof value;
  } catch {
    text = typeof value;
  }
  // user:password@ after a scheme, or at the start (a proxy given without one, as curl takes it).
  if (SECRET_KEY.test(key)) text = text.replace(/(^"|\/\/)([^:@/"]+):([^@/"]+)@/, '$1$2:***@');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
