// What the secrets scan looks for: rules over one file's name and text lines. Pure functions, so
// each rule is tested with positive and negative cases (secret-rules.test.ts).

import { basename } from 'node:path';

export interface SecretFinding {
  line: number;
  rule: string;
  /** The line with the secret masked, safe to print in a CI log. */
  excerpt: string;
  /** The line as it is, for allow-list matching only: never printed. */
  text: string;
}

interface LineRule {
  id: string;
  pattern: RegExp;
  /** Further check of the captured value (group 1, or the whole match); default: accept. */
  accept?: (value: string) => boolean;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * True for values that look generated rather than written: long hex with varied digits, or long
 * mixed-class strings with high entropy. Passphrases, placeholders and identifiers fall below.
 */
export function looksRandom(value: string): boolean {
  if (value.includes('://') || value.includes('${') || value.includes('{{')) return false;
  if (/^[0-9a-f]+$/i.test(value)) return value.length >= 32 && shannonEntropy(value) >= 3;
  if (value.length < 20) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
  // Words and identifiers rarely mix in digits; long generated strings may happen not to.
  return classes >= 2 && (/[0-9]/.test(value) || value.length >= 32) && shannonEntropy(value) >= 4;
}

/** Names whose value is a credential. */
const SECRET_NAME =
  '[A-Za-z0-9_.-]{0,40}?(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth)[A-Za-z0-9_]{0,40}';

const LINE_RULES: LineRule[] = [
  {
    // PEM private keys of every kind: PKCS#8, RSA, EC, OpenSSH, encrypted, PGP.
    id: 'private-key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/,
  },
  { id: 'aws-access-key-id', pattern: /\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b/ },
  {
    id: 'aws-secret-access-key',
    pattern:
      /aws_?secret_?access_?key["']?[ \t]{0,8}[:=][ \t]{0,8}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/i,
  },
  {
    // Our API tokens (src/auth/api-tokens.ts): cc_<16 hex id>_<43 base64url secret>.
    id: 'api-token',
    pattern: /\b(cc_[0-9a-f]{16}_[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
  },
  { id: 'github-token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,255})\b/ },
  { id: 'npm-token', pattern: /\b(npm_[A-Za-z0-9]{36})\b/ },
  {
    // An .npmrc credential; `${NPM_TOKEN}` (read from the environment at install time) is fine.
    id: 'npmrc-auth',
    pattern: /:_(?:authToken|auth|password)[ \t]{0,8}=[ \t]{0,8}([^\s$]\S{0,511})/,
  },
  { id: 'slack-token', pattern: /\b(xox[abposr]-[A-Za-z0-9-]{10,255})\b/ },
  {
    // Our device tokens (src/broker/device-tokens.ts): 32 random bytes as 43 base64url characters,
    // used as the MQTT password: caught next to a token/password name or mosquitto's -P flag.
    id: 'device-token',
    pattern:
      /(?:token|passw(?:or)?d|\s-P)["'`]?(?:[ \t]{0,8}[:=][ \t]{0,8}|[ \t]{1,8})["'`]?([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/i,
    accept: looksRandom,
  },
  {
    // A generated-looking literal assigned to a credential name: `password: "…"`, `token = '…'`.
    id: 'secret-assignment',
    pattern: new RegExp(
      `\\b${SECRET_NAME}["']?[ \\t]{0,8}(?::|=|:=|=>)[ \\t]{0,8}["'\`]([^"'\`\\s]{16,512})["'\`]`,
      'i',
    ),
    accept: looksRandom,
  },
  {
    // Environment-file and shell style: `export API_TOKEN=…` without quotes.
    id: 'secret-assignment',
    pattern:
      /^\s*(?:export\s+)?[A-Z0-9_]{0,40}?(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]{0,40}=["']?([^"'\s]{16,512})/,
    accept: looksRandom,
  },
];

/** Masks a secret for the log: its first four characters and its length. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, 4)}…(${secret.length} chars)`;
}

const MAX_EXCERPT = 160;

/** Line-by-line rules; at most one finding per line (the first rule that matches). */
export function scanText(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    for (const rule of LINE_RULES) {
      const m = rule.pattern.exec(line);
      if (!m) continue;
      const value = m[1] ?? m[0];
      if (rule.accept && !rule.accept(value)) continue;
      // A key's marker is not secret but what follows it on the line may be (an inlined PEM).
      const masked =
        rule.id === 'private-key'
          ? `${line.slice(0, m.index + m[0].length)} …`
          : line.replace(value, maskSecret(value));
      findings.push({
        line: index + 1,
        rule: rule.id,
        excerpt: masked.trim().slice(0, MAX_EXCERPT),
        text: line,
      });
      break;
    }
  }
  return findings;
}

/** Template files that document which variables exist, without values. */
const ENV_TEMPLATE = /^\.env\.(?:example|sample|template|dist)$/;
/** Binary key stores and SSH private keys: secret by their name, whatever the bytes. */
const KEY_FILE = /\.(?:p12|pfx|jks|keystore|key)$|^id_(?:rsa|dsa|ecdsa|ed25519)$/;

/** Rules on the file's path alone, for files that are secrets whatever they hold. */
export function scanFileName(path: string): SecretFinding | undefined {
  const name = basename(path);
  if (/^\.env(?:\..+)?$/.test(name) && !ENV_TEMPLATE.test(name)) {
    const excerpt = `${name}: environment files hold credentials`;
    return { line: 1, rule: 'env-file', excerpt, text: '' };
  }
  if (KEY_FILE.test(name)) {
    return { line: 1, rule: 'key-file', excerpt: `${name}: a private key or key store`, text: '' };
  }
  return undefined;
}
