// The web client's static files (public: they hold no data; every call they make is authenticated).
// Files are read once at start-up and served from memory with strict caching headers.

import { readFileSync } from 'node:fs';
import type { ApiApp } from '../api-types.js';

const WEB_ROOT = new URL('../../../web/public/', import.meta.url);

const FILES: Array<{ paths: string[]; file: string; type: string }> = [
  {
    paths: ['/', '/index.html', '/setup', '/login'],
    file: 'index.html',
    type: 'text/html; charset=utf-8',
  },
  { paths: ['/app.js'], file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { paths: ['/app.css'], file: 'app.css', type: 'text/css; charset=utf-8' },
];

export function registerDashboardRoutes(app: ApiApp): void {
  for (const { paths, file, type } of FILES) {
    const body = readFileSync(new URL(file, WEB_ROOT));
    for (const path of paths) {
      app.get(
        path,
        { config: { permission: 'public' }, schema: { hide: true } },
        (_request, reply) =>
          reply.header('content-type', type).header('cache-control', 'no-cache').send(body),
      );
    }
  }
}
