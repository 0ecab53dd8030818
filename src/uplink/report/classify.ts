// Applies the declared field classification to a drafted report: every value that leaves is looked
// up by its path in REPORT_FIELDS and kept, pseudonymized, dropped or sent in clear with consent.
// The report builder can only produce output through here, and an undeclared path is an error,
// so a field added to a report without a declaration fails instead of leaking.

import { CcError } from '../../domain/index.js';
import { createPseudonymizer, type Pseudonymize } from './pseudonym.js';
import type { ConsentCategory, FieldRule } from './report-fields.js';

export interface ReportOptions {
  /** Categories the customer consented to share in clear; every other one is protected. */
  consent: ReadonlySet<ConsentCategory>;
  /** Site-local pseudonym key (at least 32 random bytes); it is never sent. */
  pseudonymKey: Buffer;
}

/** The builder's draft: plain JSON data with clear values, checked here field by field. */
export type Classifier = (draft: object) => Record<string, unknown>;

type Value = string | number | boolean | null | readonly string[];

const DROPPED = Symbol('dropped');
const FIELD_KEY = /^[A-Za-z][A-Za-z0-9]*$/;

/** Every object and list a declared path runs through (`a`, `a[]`, `a[].b` for `a[].b.c`). */
function containerPaths(rules: readonly FieldRule[]): Set<string> {
  const containers = new Set<string>(['']);
  for (const { path } of rules) {
    for (const m of path.matchAll(/\.|\[\]/g)) {
      containers.add(path.slice(0, m.index));
      if (m[0] === '[]') containers.add(path.slice(0, m.index + 2));
    }
  }
  return containers;
}

function refuse(path: string, problem: string): CcError {
  return new CcError('INTERNAL', `uplink report field "${path}": ${problem}`, { path });
}

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isFieldValue(value: unknown): value is Value {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // JSON has no NaN or Infinity: they would arrive as null and mean something else.
      return Number.isFinite(value);
    case 'object':
      return value === null || isStringList(value);
    default:
      return false;
  }
}

export function createClassifier(rules: readonly FieldRule[], options: ReportOptions): Classifier {
  const byPath = new Map(rules.map((r) => [r.path, r]));
  const containers = containerPaths(rules);
  for (const path of byPath.keys()) {
    if (containers.has(path)) throw refuse(path, 'declared both as a field and as a container');
  }
  const pseudonymize: Pseudonymize = createPseudonymizer(options.pseudonymKey);

  function field(rule: FieldRule, value: unknown): Value | typeof DROPPED {
    if (!isFieldValue(value)) {
      throw refuse(rule.path, 'not a string, finite number, boolean, null or list of strings');
    }
    if (rule.class === 'anonymous') return isStringList(value) ? [...value] : value;
    // Protected values are text: a number or flag could not be pseudonymized, only leaked.
    if (typeof value === 'number' || typeof value === 'boolean') {
      throw refuse(rule.path, `a ${rule.class} field must be a string, null or list of strings`);
    }
    if (options.consent.has(rule.class)) return isStringList(value) ? [...value] : value;
    if (rule.withoutConsent === 'drop') return DROPPED;
    if (value === null) return null;
    const category = rule.class;
    return typeof value === 'string'
      ? pseudonymize(category, value)
      : value.map((v) => pseudonymize(category, v));
  }

  function walk(value: unknown, path: string): unknown {
    const rule = byPath.get(path);
    if (rule !== undefined) return field(rule, value);
    if (!containers.has(path)) throw refuse(path, 'not declared in REPORT_FIELDS');
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const item of value as readonly unknown[]) {
        const out = walk(item, `${path}[]`);
        if (out !== DROPPED) items.push(out);
      }
      return items;
    }
    if (value === null || typeof value !== 'object') {
      throw refuse(path, 'a value where an object or list is declared');
    }
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      const memberPath = path === '' ? key : `${path}.${key}`;
      // A key is one path segment: "a.b" or "a[]" as a key could pass for a declared path.
      if (!FIELD_KEY.test(key)) throw refuse(memberPath, 'a key that is not a plain name');
      const kept = walk(member, memberPath);
      if (kept !== DROPPED) out[key] = kept;
    }
    return out;
  }

  return (draft) => walk(draft, '') as Record<string, unknown>;
}
