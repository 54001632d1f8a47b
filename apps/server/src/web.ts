import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Serves the built web apps (apps/web, `npm run build`): the wallet PWA at /app/, the merchant
 * POS at /pos/ and the dashboard at /dashboard/, each a single-page app whose unknown paths fall
 * back to its index.html, and the hashed scripts and styles they share at /assets/ (cached for a
 * year: their names change with their content).
 *
 * Layout of the build directory (vite's output, see apps/web/vite.config.ts):
 *   wallet/index.html, pos/index.html, dashboard/index.html   the pages
 *   assets/…                                                    hashed files
 *   app/…, pos/…, dashboard/…                                   apps/web/public copied as is
 *                                                               (the wallet's manifest, service
 *                                                               worker and icons live in public/app/,
 *                                                               so the worker's scope is /app/)
 *
 * Every response carries a strict Content-Security-Policy (no inline script or style anywhere)
 * and the usual security headers; the app-wide onSend hook leaves headers set here alone.
 */

export interface WebOptions {
  /** The build directory (apps/web/dist by default: defaultWebDir()). */
  webDir: string;
}

/** apps/web/dist, found from this file's place (src/web.ts when run by tsx/vitest, dist/src/web.js when built). */
export function defaultWebDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const serverDir =
    path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '../..') : path.resolve(here, '..');
  return path.resolve(serverDir, '../web/dist');
}

export const webContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every page and file the server serves to browsers (the landing page too). */
export const webPageHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': webContentSecurityPolicy,
  'permissions-policy': 'camera=(self), microphone=(), geolocation=()',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/** The apps: URL prefix → where its page and its public files are in the build. */
const webApps = [
  { prefix: 'app', pageDir: 'wallet', publicDir: 'app' },
  { prefix: 'pos', pageDir: 'pos', publicDir: 'pos' },
  { prefix: 'dashboard', pageDir: 'dashboard', publicDir: 'dashboard' },
] as const;

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The largest file served (the build's biggest bundle is far below). */
const webFileBytesMax = 16 * 1024 * 1024;
/** Longest path below a prefix that is looked up on disk. */
const webPathLengthMax = 512;
const immutableCacheControl = 'public, max-age=31536000, immutable';

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Yunpay: web apps not built</title></head>
<body><h1>The web apps are not built</h1><p>Run <code>npm run build</code> and restart Yunpay.</p></body></html>
`;

interface FoundFile {
  absolute: string;
  size: number;
  mtimeMs: number;
}

/**
 * The file at `relative` under `root`, or null: no `..`, no hidden segments, no NUL, nothing that
 * resolves outside root, regular files only.
 */
async function findFile(root: string, relative: string): Promise<FoundFile | null> {
  if (relative.length > webPathLengthMax || relative.includes('\0') || relative.includes('\\')) return null;
  const segments = relative.split('/').filter((segment) => segment !== '');
  if (segments.length === 0 || segments.some((segment) => segment.startsWith('.'))) return null;
  const absolute = path.resolve(root, ...segments);
  if (!absolute.startsWith(root + path.sep)) return null;
  try {
    const stats = await stat(absolute);
    if (!stats.isFile() || stats.size > webFileBytesMax) return null;
    return { absolute, size: stats.size, mtimeMs: stats.mtimeMs };
  } catch {
    return null;
  }
}

function decodedPath(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function setPageHeaders(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(webPageHeaders)) void reply.header(name, value);
}

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: FoundFile,
  cacheControl: string,
): Promise<FastifyReply> {
  setPageHeaders(reply);
  const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
  void reply
    .header('cache-control', cacheControl)
    .header('etag', etag)
    .header('content-type', contentTypes[path.extname(file.absolute).toLowerCase()] ?? 'application/octet-stream');
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  const body = await readFile(file.absolute);
  if (body.length !== file.size) request.log.warn({ file: file.absolute }, 'a web file changed while being served');
  return reply.status(200).send(body);
}

function sendNotBuilt(reply: FastifyReply): FastifyReply {
  setPageHeaders(reply);
  return reply
    .status(503)
    .header('cache-control', 'no-store')
    .header('retry-after', '30')
    .type('text/html; charset=utf-8')
    .send(notBuiltPage);
}

function sendNotFound(reply: FastifyReply): FastifyReply {
  setPageHeaders(reply);
  return reply.status(404).header('cache-control', 'no-cache').type('text/plain; charset=utf-8').send('Not found.\n');
}

/** Register at the root: `app.register(webRoutes, { webDir })`. */
export const webRoutes: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const root = path.resolve(options.webDir);

  for (const webApp of webApps) {
    app.get(`/${webApp.prefix}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect(`/${webApp.prefix}/`, 301),
    );
    app.get(`/${webApp.prefix}/*`, { schema: { hide: true } }, async (request, reply) => {
      const page = await findFile(root, `${webApp.pageDir}/index.html`);
      if (page === null) return sendNotBuilt(reply);
      const rest = decodedPath((request.params as { '*': string })['*']);
      if (rest === null) return sendNotFound(reply);
      if (rest !== '' && rest !== 'index.html') {
        const file = await findFile(root, `${webApp.publicDir}/${rest}`);
        // The service worker and manifest are checked for updates on every visit: never cache them long.
        if (file !== null) return sendFile(request, reply, file, 'no-cache');
        // A path that names a file (has an extension) and is not there is a 404, not the app.
        if (/\.[A-Za-z0-9]{1,12}$/.test(rest)) return sendNotFound(reply);
      }
      return sendFile(request, reply, page, 'no-cache');
    });
  }

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const rest = decodedPath((request.params as { '*': string })['*']);
    const file = rest === null ? null : await findFile(root, `assets/${rest}`);
    if (file !== null) return sendFile(request, reply, file, immutableCacheControl);
    const built = await findFile(root, 'wallet/index.html');
    return built === null ? sendNotBuilt(reply) : sendNotFound(reply);
  });
};
