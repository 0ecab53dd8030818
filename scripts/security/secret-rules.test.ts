import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { looksRandom, maskSecret, scanFileName, scanText } from './secret-rules.js';

// Secrets are built at run time so that this file itself passes the scan.
const fixed = (seed: string): string => createHash('sha256').update(seed).digest('base64url');
const hex = (seed: string): string => createHash('sha256').update(seed).digest('hex');
const DEVICE_TOKEN = fixed('device'); // 43 base64url characters, like src/broker/device-tokens.ts
const API_TOKEN = `cc_${hex('id').slice(0, 16)}_${fixed('api')}`; // like src/auth/api-tokens.ts
const BEGIN = '-----BEGIN ';
const AWS_ID = ['AKIA', 'Z7QW3K9DPLMN4XRT'].join('');
const AWS_SECRET = `${fixed('aws').slice(0, 36)}/Ab+`;
const GITHUB = `ghp_${fixed('gh').replace(/[-_]/g, 'x').slice(0, 36)}`;
const NPM = `npm_${fixed('npm').replace(/[-_]/g, 'y').slice(0, 36)}`;
const SLACK = ['xoxb', '1234567890', 'abcdefABCDEF12'].join('-');

const rulesOf = (text: string): string[] => scanText(text).map((f) => f.rule);

describe('secret rules', () => {
  it.each([
    ['a PKCS#8 private key', `${BEGIN}PRIVATE KEY-----\nMIIEvQ…`, 'private-key'],
    [
      'an RSA key in a certificate bundle',
      `${BEGIN}CERTIFICATE-----\nMIIB…\n${BEGIN}RSA PRIVATE KEY-----`,
      'private-key',
    ],
    ['an OpenSSH key', `${BEGIN}OPENSSH PRIVATE KEY-----`, 'private-key'],
    ['an encrypted key', `${BEGIN}ENCRYPTED PRIVATE KEY-----`, 'private-key'],
    ['an AWS access key id', `aws_access_key_id = ${AWS_ID}`, 'aws-access-key-id'],
    ['an AWS secret key', `aws_secret_access_key=${AWS_SECRET}`, 'aws-secret-access-key'],
    ['our API token', `curl -H "Authorization: Bearer ${API_TOKEN}"`, 'api-token'],
    [
      'our device token as MQTT password',
      `mosquitto_sub -u printer-01 -P ${DEVICE_TOKEN} -t x`,
      'device-token',
    ],
    [
      'our device token in JSON',
      `{ "printer-01": "x", "token": "${DEVICE_TOKEN}" }`,
      'device-token',
    ],
    ['a GitHub token', `GH=${GITHUB}`, 'github-token'],
    ['an npm token', `publish with ${NPM}`, 'npm-token'],
    ['an .npmrc credential', `//registry.npmjs.org/:_authToken=${fixed('n')}`, 'npmrc-auth'],
    ['a Slack token', `url: ${SLACK}`, 'slack-token'],
    [
      'a generated password literal',
      `const password = '${fixed('p').slice(0, 24)}';`,
      'secret-assignment',
    ],
    ['a hex secret in YAML', `  clientSecret: "${hex('s')}"`, 'secret-assignment'],
    [
      'a secret in an env file',
      `export CLOUD_API_KEY=${fixed('k').slice(0, 30)}`,
      'secret-assignment',
    ],
  ])('finds %s', (_name, text, rule) => {
    expect(rulesOf(text)).toContain(rule);
  });

  it.each([
    ['a public certificate', `${BEGIN}CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU`],
    ['a public key', `${BEGIN}PUBLIC KEY-----`],
    ['a passphrase in a test', `const PASSWORD = 'correct horse battery staple';`],
    ['a readable test password', `const password = 'bench-password-long-enough';`],
    ['a placeholder', `export CC_TOKEN='<the token printed by login>'`],
    ['an environment reference', `password: '\${process.env.CC_PASSWORD}'`],
    ['an npmrc token from the environment', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}'],
    ['an elided token in the docs', `"token":"cc_9f2c…_Xy…"`],
    ['a made-up token in a test', `CC_TOKEN: 'cc_nope_not-a-real-token'`],
    ['a hash that is not a credential', `"integrity": "sha512-${fixed('i')}${fixed('j')}"`],
    ['a URL assigned to a token name', `tokenUrl: 'https://login.example.com/oauth2/v2.0/token'`],
    ['a short id', `const tokenId = '${hex('t').slice(0, 16)}';`],
    ['a 43-character word-like value', `token: '${'a'.repeat(43)}'`],
  ])('ignores %s', (_name, text) => {
    expect(scanText(text)).toEqual([]);
  });

  it('reports the line number and masks the secret', () => {
    const [finding] = scanText(`first\nsecond\nmosquitto_pub -P ${DEVICE_TOKEN}\n`);
    expect(finding?.line).toBe(3);
    expect(finding?.excerpt).not.toContain(DEVICE_TOKEN);
    expect(finding?.excerpt).toContain(maskSecret(DEVICE_TOKEN));
  });

  it('prints only the marker of an inlined private key', () => {
    const body = fixed('body');
    const [finding] = scanText(`const key = '${BEGIN}PRIVATE KEY-----\\n${body}\\n';`);
    expect(finding?.excerpt).not.toContain(body);
  });

  it('flags environment files and key stores by name', () => {
    expect(scanFileName('.env')?.rule).toBe('env-file');
    expect(scanFileName('deploy/.env.production')?.rule).toBe('env-file');
    expect(scanFileName('.env.example')).toBeUndefined();
    expect(scanFileName('certs/site.p12')?.rule).toBe('key-file');
    expect(scanFileName('data/secret.key')?.rule).toBe('key-file');
    expect(scanFileName('home/.ssh/id_ed25519')?.rule).toBe('key-file');
    expect(scanFileName('home/.ssh/id_ed25519.pub')).toBeUndefined();
    expect(scanFileName('src/auth/secret-box.ts')).toBeUndefined();
  });

  it('tells generated values from written ones', () => {
    expect(looksRandom(DEVICE_TOKEN)).toBe(true);
    expect(looksRandom(hex('x'))).toBe(true);
    expect(looksRandom('0'.repeat(64))).toBe(false);
    expect(looksRandom('someLongCamelCaseIdentifier')).toBe(false);
    expect(looksRandom('https://example.com/aB3dE5fG7hI9')).toBe(false);
  });
});
