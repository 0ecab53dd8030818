// The deployment files: the systemd unit parses as INI and keeps its hardening; the Dockerfile
// runs as a non-root user with the data directory as a volume.

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

function parseUnit(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] ?? '', current);
      continue;
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!pair || !current) throw new Error(`not an INI line: ${line}`);
    current.set(pair[1] ?? '', pair[2] ?? '');
  }
  return sections;
}

describe('deploy files', () => {
  it('the systemd unit runs the server hardened, as its own user', async () => {
    const unit = parseUnit(
      await readFile(new URL('../deploy/command-center.service', import.meta.url), 'utf8'),
    );
    const service = unit.get('Service');
    expect(service?.get('ExecStart')).toBe(
      '/usr/bin/node /opt/command-center/dist/cli/main.js start -c /etc/command-center/config.yaml',
    );
    expect(Object.fromEntries(service ?? [])).toMatchObject({
      User: 'command-center',
      NoNewPrivileges: 'true',
      ProtectSystem: 'strict',
      ReadWritePaths: '/var/lib/command-center',
      PrivateTmp: 'true',
      ProtectHome: 'true',
      Restart: 'on-failure',
      AmbientCapabilities: '',
      EnvironmentFile: '-/etc/command-center/command-center.env',
    });
    expect(unit.get('Install')?.get('WantedBy')).toBe('multi-user.target');
  });

  it('the Dockerfile runs as a non-root user with a data volume and a health check', async () => {
    const text = await readFile(new URL('../deploy/Dockerfile', import.meta.url), 'utf8');
    expect(text).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(text).toMatch(/^USER command-center$/m);
    expect(text).toMatch(/^VOLUME \/var\/lib\/command-center$/m);
    expect(text).toMatch(/^EXPOSE 8443 8080 1883 8090$/m);
    expect(text).toContain('http://127.0.0.1:8080/healthz');
    expect(text).not.toMatch(/^(COPY|ADD)\b.*(secret\.key|\.pem|\.key)\b/m);
    expect(text).not.toMatch(/^(ENV|ARG)\b.*(PASSWORD|TOKEN|SECRET)/im);
  });
});
