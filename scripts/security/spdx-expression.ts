// SPDX licence expressions (SPDX spec, annex D): parse `MIT OR (Apache-2.0 AND BSD-3-Clause)` and
// decide whether an allow-list satisfies it. OR binds looser than AND; WITH attaches an exception.

export type SpdxNode =
  { kind: 'license'; id: string } | { kind: 'and' | 'or'; left: SpdxNode; right: SpdxNode };

/** Thrown for text that is not an SPDX expression (e.g. "SEE LICENSE IN LICENSE.md"). */
export class SpdxSyntaxError extends Error {}

function tokenize(text: string): string[] {
  return text.replace(/[()]/g, ' $& ').trim().split(/\s+/).filter(Boolean);
}

const ID =
  /^[A-Za-z0-9][A-Za-z0-9.+-]*$|^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;

export function parseSpdx(text: string): SpdxNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): string | undefined => tokens[pos]?.toUpperCase();

  function license(): SpdxNode {
    const token = tokens[pos];
    if (token === '(') {
      pos += 1;
      const inner = orExpression();
      if (tokens[pos] !== ')') throw new SpdxSyntaxError(`missing ")" in "${text}"`);
      pos += 1;
      return inner;
    }
    if (token === undefined || !ID.test(token) || ['AND', 'OR', 'WITH'].includes(peek() ?? '')) {
      throw new SpdxSyntaxError(`expected a licence id at "${token ?? 'end'}" in "${text}"`);
    }
    pos += 1;
    if (peek() === 'WITH') {
      const exception = tokens[pos + 1];
      if (exception === undefined || !ID.test(exception)) {
        throw new SpdxSyntaxError(`expected an exception id after WITH in "${text}"`);
      }
      pos += 2;
      return { kind: 'license', id: `${token} WITH ${exception}` };
    }
    return { kind: 'license', id: token };
  }

  function andExpression(): SpdxNode {
    let left = license();
    while (peek() === 'AND') {
      pos += 1;
      left = { kind: 'and', left, right: license() };
    }
    return left;
  }

  function orExpression(): SpdxNode {
    let left = andExpression();
    while (peek() === 'OR') {
      pos += 1;
      left = { kind: 'or', left, right: andExpression() };
    }
    return left;
  }

  const tree = orExpression();
  if (pos !== tokens.length) {
    throw new SpdxSyntaxError(`unexpected "${tokens[pos] ?? ''}" in "${text}"`);
  }
  return tree;
}

/**
 * The licence ids that are not allowed and stand in the way, or [] when the expression is satisfied:
 * an OR needs one allowed side, an AND needs both. Ids compare case-insensitively (SPDX spec);
 * `GPL-2.0+` counts as `GPL-2.0` for the list.
 */
export function unmetLicenses(node: SpdxNode, allowed: ReadonlySet<string>): string[] {
  const lower = new Set([...allowed].map((id) => id.toLowerCase()));
  const walk = (n: SpdxNode): string[] => {
    switch (n.kind) {
      case 'license': {
        const id = n.id.toLowerCase();
        return lower.has(id) || (id.endsWith('+') && lower.has(id.slice(0, -1))) ? [] : [n.id];
      }
      case 'and':
        return [...walk(n.left), ...walk(n.right)];
      case 'or': {
        const left = walk(n.left);
        if (left.length === 0) return [];
        const right = walk(n.right);
        return right.length === 0 ? [] : [...left, ...right];
      }
    }
  };
  return walk(node);
}
