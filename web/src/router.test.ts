import { describe, expect, it } from 'vitest';
import { devicePath, matchRoute } from './router';

describe('routes', () => {
  it.each([
    ['/', 'home'],
    ['/fleet', 'fleet'],
    ['/jobs/', 'jobs'],
    ['/wall', 'wall'],
    ['/setup', 'setup'],
    ['/invite', 'invite'],
    ['/audit', 'audit'],
    ['/settings', 'settings'],
    ['/nope', 'not-found'],
    ['/fleet/extra', 'not-found'],
  ])('%s is the %s page', (path, name) => {
    expect(matchRoute(path).name).toBe(name);
  });

  it('reads and writes device ids safely', () => {
    expect(matchRoute(devicePath('printer 7/a'))).toEqual({ name: 'device', id: 'printer 7/a' });
    expect(matchRoute('/devices/%E0%A4%A')).toEqual({ name: 'not-found' });
  });
});
