// The dashboard: the single-page app Vite builds into web/dist, served as static files. Public
// routes: the page holds no data and every call it makes is authenticated. Files are read once at
// start-up and served from memory; hashed assets are cached for a year, index.html never is.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CcError } from '../../domain/index.js';
import type { ApiApp } from '../api-types.js';

const DEFAULT_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * Paths the app routes itself (history API): each answers index.html. Listed, not a catch-all, so
 * a mistyped API path still gets its JSON 404 and /api, /metrics, /healthz are never shadowed.
 */
export const CLIENT_ROUTES = [
  '/',
  '/index.html',
  '/login',
  '/setup',
  '/invite',
  '/fleet',
  '/devices/:id',
  '/jobs',
  '/alerts',
  '/wall',
  '/cloud',
  '/firmware',
  '/network',
  '/users',
  '/audit',
  '/settings',
] as const;

/** Files at the root of web/dist besides index.html (from web/public). */
export const ROOT_FILES = ['/favicon.svg'] as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const ASSET_NAME = /^[A-Za-z0-9._-]{1,200}$/;

interface StaticFile {
  body: Buffer;
  type: string;
}

export interface DashboardFiles {
  index: Buffer;
  assets: Map<string, StaticFile>;
  root: Map<string, StaticFile>;
}

const NOT_BUILT = Buffer.from(
  [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Command Center: dashboard not built</title></head>',
    '<body><h1>Command Center</h1>',
    '<p>dashboard not built: run npm run build</p>',
    '<p>The API is running; only the web dashboard is missing from web/dist.</p>',
    '</body></html>',
  ].join('\n'),
);

function fileAt(path: string): StaticFile {
  return {
    body: readFileSync(path),
    type: TYPES[extname(path)] ?? 'application/octet-stream',
  };
}

/** Reads the built app; null when web/dist (or its index.html) is missing. */
export function loadDashboard(rootDir: string): DashboardFiles | null {
  const indexPath = join(rootDir, 'index.html');
  if (!existsSync(indexPath)) return null;
  const assets = new Map<string, StaticFile>();
  const assetDir = join(rootDir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const path = join(assetDir, name);
      if (ASSET_NAME.test(name) && statSync(path).isFile()) assets.set(name, fileAt(path));
    }
  }
  const root = new Map<string, StaticFile>();
  for (const route of ROOT_FILES) {
    const path = join(rootDir, route.slice(1));
    if (existsSync(path)) root.set(route, fileAt(path));
  }
  return { index: readFileSync(indexPath), assets, root };
}

export function registerDashboardRoutes(app: ApiApp, options: { rootDir?: string } = {}): void {
  const rootDir = options.rootDir ?? DEFAULT_ROOT;
  const files = loadDashboard(rootDir);
  if (!files) app.log.warn({ rootDir }, 'dashboard not built: run npm run build');
  const route = { config: { permission: 'public' as const }, schema: { hide: true } };

  for (const path of CLIENT_ROUTES) {
    app.get(path, route, (_request, reply) => {
      void reply.header('content-type', 'text/html; charset=utf-8');
      void reply.header('cache-control', 'no-cache');
      return files ? reply.send(files.index) : reply.code(503).send(NOT_BUILT);
    });
  }

  for (const path of ROOT_FILES) {
    app.get(path, route, (_request, reply) => {
      const file = files?.root.get(path);
      if (!file) throw new CcError('ROUTE_NOT_FOUND', `GET ${path} not found`);
      return reply
        .header('content-type', file.type)
        .header('cache-control', 'no-cache')
        .send(file.body);
    });
  }

  app.get('/assets/*', route, (request, reply) => {
    const name = (request.params as { '*'?: string })['*'] ?? '';
    const file = ASSET_NAME.test(name) ? files?.assets.get(name) : undefined;
    if (!file) throw new CcError('ROUTE_NOT_FOUND', `GET /assets/${name} not found`);
    return reply
      .header('content-type', file.type)
      .header('cache-control', IMMUTABLE)
      .send(file.body);
  });
}
