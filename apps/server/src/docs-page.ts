import { readFile } from 'node:fs/promises';
import { NoQuerySchema } from './platform/http-schemas.js';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { webPageHeaders } from './web.js';

/**
 * GET /docs: the API reference, rendered in the browser by Redoc (the `redoc` package's standalone
 * bundle, served from our own node_modules: no CDN, works offline) from our own /openapi.json.
 *
 * Its Content-Security-Policy is the apps' strict one with two relaxations Redoc needs: styles it
 * injects at run time (styled-components: `style-src 'unsafe-inline'`; scripts stay 'self' only)
 * and the search index's web worker, which it starts from a blob: URL.
 *
 * The bundle's one remote resource is the footer's Redocly logo (cdn.redoc.ly). So that the page
 * makes no request outside this server (and works offline), the bundle is served with that one URL
 * pointed at an empty image; the "API docs by Redocly" credit and its link stay. If an upgrade of
 * redoc moves the URL, serving fails loudly instead of quietly fetching from the CDN.
 */

const require = createRequire(import.meta.url);
const redocBundlePath = require.resolve('redoc/bundles/redoc.standalone.js');

export const docsContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const docsHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Yunpay API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="redoc"><noscript>The API reference needs JavaScript; the raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript></div>
<script src="/docs/redoc.standalone.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;

// Redoc's options: https://redocly.com/docs/redoc/config (no "try it" console, no external fonts).
const docsJs = `'use strict';
Redoc.init('/openapi.json', {
  hideDownloadButton: false,
  expandResponses: '200,201',
  jsonSampleExpandLevel: 2,
  sortTagsAlphabetically: false,
  theme: { typography: { fontFamily: 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif', headings: { fontFamily: 'system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif' } } },
}, document.getElementById('redoc'));
`;

const remoteLogoUrl = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
const emptyImageUrl = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

/** The standalone bundle with its one remote URL replaced (see above). */
export async function loadRedocBundle(): Promise<string> {
  const bundle = await readFile(redocBundlePath, 'utf8');
  const parts = bundle.split(remoteLogoUrl);
  if (parts.length !== 2) {
    throw new Error(`redoc's bundle no longer has exactly one ${remoteLogoUrl}: review src/docs-page.ts`);
  }
  const served = parts.join(emptyImageUrl);
  if (/["'`]https?:\/\/cdn\./.test(served)) throw new Error("redoc's bundle loads from a CDN: review src/docs-page.ts");
  return served;
}

let redocBundle: Promise<string> | null = null;

function send(reply: FastifyReply, contentType: string, body: string, cacheControl: string): FastifyReply {
  for (const [name, value] of Object.entries(webPageHeaders)) void reply.header(name, value);
  return reply
    .header('content-security-policy', docsContentSecurityPolicy)
    .header('cache-control', cacheControl)
    .type(contentType)
    .send(body);
}

export const docsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/docs', { schema: { hide: true, querystring: NoQuerySchema } }, async (_request, reply) =>
    send(reply, 'text/html; charset=utf-8', docsHtml, 'no-cache'),
  );
  app.get('/docs/docs.js', { schema: { hide: true, querystring: NoQuerySchema } }, async (_request, reply) =>
    send(reply, 'text/javascript; charset=utf-8', docsJs, 'no-cache'),
  );
  app.get(
    '/docs/redoc.standalone.js',
    { schema: { hide: true, querystring: NoQuerySchema } },
    async (_request, reply) => {
      redocBundle ??= loadRedocBundle();
      try {
        return send(reply, 'text/javascript; charset=utf-8', await redocBundle, 'public, max-age=3600');
      } catch (error) {
        redocBundle = null;
        throw error;
      }
    },
  );
};
