import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  envName,
  listFields,
  loadConfig,
  renderConfigReference,
  resolveConfig,
} from './index.js';

describe('configuration loader', () => {
  let dir: string;
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the documented defaults with no file and no environment', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.ports.https).toEqual({ from: 8443, to: 8450 });
    expect(config.ports.http).toEqual({ from: 8080, to: 8090 });
    expect(config.ports.mqtt).toEqual({ from: 1883, to: 1891 });
    expect(config.ports.apiProxy).toEqual({ from: 8090, to: 8099 });
    expect(config.store.driver).toBe('sqlite');
    expect(config.tls.certFile).toBeNull();
    expect(config.demo.enabled).toBe(false);
  });

  it('applies file < environment < overrides', async () => {
    const path = await file(
      'layers.yaml',
      'log:\n  level: debug\ningest:\n  batchDelayMs: 20\n  batchMaxSize: 50\n',
    );
    const { config } = loadConfig({
      file: path,
      env: { CC_INGEST__BATCH_DELAY_MS: '30', CC_DEMO__ENABLED: 'true' },
      overrides: { ingest: { batchMaxSize: 70 } },
    });
    expect(config.log.level).toBe('debug');
    expect(config.ingest.batchDelayMs).toBe(30);
    expect(config.ingest.batchMaxSize).toBe(70);
    expect(config.demo.enabled).toBe(true);
  });

  it('reads JSON files and CC_CONFIG', async () => {
    const path = await file('c.json', JSON.stringify({ ports: { https: '9443-9444' } }));
    expect(loadConfig({ env: { CC_CONFIG: path } }).config.ports.https).toEqual({
      from: 9443,
      to: 9444,
    });
  });

  it.each([
    ['ports.https', 'ports:\n  https: 70000-70010\n', /1–65535/],
    ['ports.http', 'ports:\n  http: 9000-8000\n', /FROM ≤ TO/],
    ['ports.mqtt', 'ports:\n  mqtt: lots\n', /port range/],
    ['ingest.batchDelayMs', 'ingest:\n  batchDelayMs: -5\n', /between 0 and 1000/],
    ['ingest.batchMaxSize', 'ingest:\n  batchMaxSize: 1.5\n', /integer/],
    ['log.level', 'log:\n  level: loud\n', /one of/],
    ['log.pretty', 'log:\n  pretty: "yes please"\n', /true or false/],
    ['dataDir', 'dataDir: 42\n', /string/],
    ['store.postgresUrl', 'store:\n  driver: postgres\n', /required/],
    ['tls.keyFile', 'tls:\n  certFile: /etc/cert.pem\n', /go together/],
    ['log', 'log: 5\n', /mapping/],
  ])('reports a bad %s with its value and a fix', async (key, text, message) => {
    const path = await file(`bad-${key}.yaml`, text);
    const { issues } = resolveConfig({ file: path, env: {} });
    const issue = issues.find((i) => i.key === key);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
    expect(issue!.fix.length).toBeGreaterThan(5);
  });

  it('reports every issue at once, from the file and the environment', async () => {
    const path = await file('many.yaml', 'ingest:\n  batchDelayMs: -1\nlog:\n  level: nope\n');
    const { issues } = resolveConfig({ file: path, env: { CC_HTTP__BODY_LIMIT: 'huge' } });
    expect(issues.map((i) => i.key).sort()).toEqual([
      'http.bodyLimit',
      'ingest.batchDelayMs',
      'log.level',
    ]);
    expect(issues.find((i) => i.key === 'http.bodyLimit')!.source).toBe('env CC_HTTP__BODY_LIMIT');
  });

  it('checks proxy settings: environment, none or an http:// proxy, never echoing a password', () => {
    for (const good of ['environment', 'none', 'http://proxy.corp:3128', 'proxy.corp:3128']) {
      expect(resolveConfig({ env: { CC_UPLINK__PROXY: good } }).issues, good).toEqual([]);
      expect(resolveConfig({ env: { CC_FIRMWARE__PROXY: good } }).issues, good).toEqual([]);
    }
    const bad: [string, RegExp][] = [
      ['https://user:s3cret-pw@proxy.corp:3128', /https:\/\/ proxy/],
      ['socks5://proxy.corp:1080', /unsupported proxy scheme socks5/],
      ['http://proxy.corp:3128/path', /path, query or fragment/],
      ['http://', /not a proxy URL|names no proxy host/],
      ['http://proxy.corp:99999', /not a proxy URL/],
    ];
    for (const [value, message] of bad) {
      const { issues } = resolveConfig({ env: { CC_UPLINK__PROXY: value } });
      expect(
        issues.map((i) => i.key),
        value,
      ).toEqual(['uplink.proxy']);
      expect(issues[0]!.message).toMatch(message);
      expect(issues[0]!.fix).toMatch(/http:\/\//);
      expect(JSON.stringify(issues)).not.toContain('s3cret-pw');
    }
    const schemeless = resolveConfig({ env: { CC_FIRMWARE__PROXY: 'user:pw-9x@proxy.corp:80/x' } });
    expect(schemeless.issues.map((i) => i.key)).toEqual(['firmware.proxy']);
    expect(JSON.stringify(schemeless.issues)).not.toContain('pw-9x');
  });

  it('checks the doctor: endpoints, bandwidth URL', () => {
    const config = loadConfig({
      env: {
        CC_DOCTOR__ENDPOINTS: 'cloud.example.com:443, [::1]:8443,ftp.example.com:21/FTP',
        CC_DOCTOR__BANDWIDTH_URL: 'https://downloads.example.com/10MB.bin',
      },
    }).config;
    expect(config.doctor.endpoints).toEqual([
      'cloud.example.com:443',
      '[::1]:8443',
      'ftp.example.com:21/ftp',
    ]);
    expect(config.doctor.bandwidthUrl).toBe('https://downloads.example.com/10MB.bin');
    expect(loadConfig({ env: {} }).config.doctor.endpoints).toEqual([
      'www.printos.com:443',
      '3dpconf.heleni.me:443',
      's3.amazonaws.com:443',
      'h19002.www1.hp.com:21/ftp',
    ]);
    for (const value of ['cloud.example.com', 'user@cloud.example.com:443', 'h:0', 'h:443/sftp']) {
      const { issues } = resolveConfig({ env: { CC_DOCTOR__ENDPOINTS: value } });
      expect(
        issues.map((i) => i.key),
        value,
      ).toEqual(['doctor.endpoints']);
    }
    for (const value of ['ftp://files.example.com/x', 'https://u:p@x.example/f', 'not a url']) {
      const { issues } = resolveConfig({ env: { CC_DOCTOR__BANDWIDTH_URL: value } });
      expect(
        issues.map((i) => i.key),
        value,
      ).toEqual(['doctor.bandwidthUrl']);
    }
  });

  it('reads origin lists from files and the environment, normalized and checked', async () => {
    const path = await file('cors.yaml', 'http:\n  corsOrigins: ["HTTPS://MES.example.com:443"]\n');
    expect(loadConfig({ file: path, env: {} }).config.http.corsOrigins).toEqual([
      'https://mes.example.com',
    ]);
    const env = { CC_HTTP__CORS_ORIGINS: ' https://a.example ,https://b.example:8443,, ' };
    expect(loadConfig({ env }).config.http.corsOrigins).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ]);
    expect(loadConfig({ env: {} }).config.http.corsOrigins).toEqual([]);
    const hostile = [
      '*',
      'null',
      'https://a.example/path',
      'https://user@a.example',
      'ftp://a.example',
      'https://a.example?x=1',
      'x'.repeat(400),
    ];
    for (const value of hostile) {
      const { issues } = resolveConfig({ env: { CC_HTTP__CORS_ORIGINS: value } });
      expect(
        issues.map((i) => i.key),
        value,
      ).toEqual(['http.corsOrigins']);
      expect(issues[0]!.fix).toMatch(/https:\/\/mes\.example\.com/);
    }
    const tooMany = Array.from({ length: 40 }, (_, i) => `https://h${i}.example`).join(',');
    expect(resolveConfig({ env: { CC_HTTP__CORS_ORIGINS: tooMany } }).issues).toHaveLength(1);
    const notList = await file('cors-bad.yaml', 'http:\n  corsOrigins: 7\n');
    expect(resolveConfig({ file: notList, env: {} }).issues[0]!.message).toMatch(/list/);
  });

  it('suggests the closest key for a misspelt one', async () => {
    const path = await file('typo.yaml', 'ingest:\n  batchDelyMs: 3\nlogg: {}\n');
    const { issues } = resolveConfig({ file: path, env: {} });
    expect(issues.find((i) => i.key === 'ingest.batchDelyMs')!.fix).toMatch(
      /did you mean ingest.batchDelayMs/,
    );
    expect(issues.find((i) => i.key === 'logg')!.fix).toMatch(/did you mean log\?/);
  });

  it('names the line of a YAML syntax error', async () => {
    const path = await file('broken.yaml', 'log:\n  level: [debug\n');
    const { issues } = resolveConfig({ file: path, env: {} });
    expect(issues[0]!.message).toMatch(/line \d+, column \d+/);
    expect(issues[0]!.source).toContain('broken.yaml');
  });

  it('refuses a missing file, an oversized file and an unknown extension', async () => {
    expect(resolveConfig({ file: join(dir, 'nope.yaml'), env: {} }).issues[0]!.message).toMatch(
      /cannot be read/,
    );
    const big = await file('big.yaml', `# ${'x'.repeat(1024 * 1024 + 10)}\n`);
    expect(resolveConfig({ file: big, env: {} }).issues[0]!.message).toMatch(/larger than/);
    const txt = await file('c.txt', 'a: 1');
    expect(resolveConfig({ file: txt, env: {} }).issues[0]!.message).toMatch(/extension/);
  });

  it('is not polluted by __proto__ keys', async () => {
    const path = await file(
      'proto.json',
      '{"__proto__": {"polluted": true}, "log": {"__proto__": {"x": 1}}}',
    );
    const { issues } = resolveConfig({ file: path, env: {} });
    expect(issues.length).toBeGreaterThan(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives YAML alias bombs and deep nesting with an error, not a hang', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)}]`,
      );
    const path = await file('bomb.yaml', `${bomb.join('\n')}\n`);
    expect(resolveConfig({ file: path, env: {} }).issues.length).toBeGreaterThan(0);
    const deep = await file('deep.json', `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`);
    expect(resolveConfig({ file: deep, env: {} }).issues[0]!.message).toMatch(/deeper than 64/);
    const brackets = await file(
      'brackets.yaml',
      `log: ${'['.repeat(400_000)}${']'.repeat(400_000)}`,
    );
    expect(resolveConfig({ file: brackets, env: {} }).issues[0]!.message).toMatch(/deeper than/);
    const indented = await file(
      'indented.yaml',
      `log:\n${Array.from({ length: 1200 }, (_, i) => `${' '.repeat(i + 2)}-`).join('\n')}`,
    );
    const { issues } = resolveConfig({ file: indented, env: {} });
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.length).toBeLessThanOrEqual(6);
  });

  it('throws CONFIG_INVALID naming each key', () => {
    try {
      loadConfig({ env: { CC_INGEST__BATCH_MAX_SIZE: 'lots' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('CONFIG_INVALID');
      expect((err as ConfigError).message).toContain('ingest.batchMaxSize');
    }
  });

  it('masks passwords in connection URLs', () => {
    const { issues } = resolveConfig({
      env: { CC_STORE__DRIVER: 'postgres', CC_STORE__POSTGRES_URL: 'x'.repeat(5000) },
    });
    expect(issues[0]!.value).not.toContain('x'.repeat(100));
    const masked = resolveConfig({
      env: { CC_STORE__POSTGRES_URL: 'postgres://cc:hunter2@db/cc', CC_LOG__LEVEL: 'bad' },
    });
    expect(JSON.stringify(masked.issues)).not.toContain('hunter2');
  });

  it('maps every key to a distinct environment variable name', () => {
    const names = listFields().map(([key]) => envName(key));
    expect(new Set(names).size).toBe(names.length);
    expect(envName('ingest.batchDelayMs')).toBe('CC_INGEST__BATCH_DELAY_MS');
    expect(envName('dataDir')).toBe('CC_DATA_DIR');
  });

  it('keeps docs/configuration.md in step with the schema', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderConfigReference());
  });
});
