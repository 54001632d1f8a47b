import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import type { Db } from '../../src/platform/db.js';
import { Lifecycle } from '../../src/platform/lifecycle.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetrics } from '../../src/platform/metrics.js';
import { defaultWebDir, webContentSecurityPolicy } from '../../src/web.js';
import { LogCapture, testAdminToken } from '../support/app.js';

/** A build directory shaped like vite's output, small enough to write by hand. */
function fakeBuild(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'yunpay-web-serving-'));
  const files: Record<string, string> = {
    'wallet/index.html':
      '<!doctype html><title>wallet</title><script type="module" src="/assets/wallet-abc123.js"></script>',
    'pos/index.html': '<!doctype html><title>pos</title>',
    'dashboard/index.html': '<!doctype html><title>dashboard</title>',
    'assets/wallet-abc123.js': 'console.log("wallet")',
    'assets/wallet-abc123.css': 'body{}',
    'app/sw.js': 'self.addEventListener("fetch", () => {})',
    'app/manifest.webmanifest': '{"name":"Yunpay Wallet","start_url":"/app/","scope":"/app/"}',
    'app/icons/icon-192.png': '\x89PNG',
    'secret.txt': 'outside every prefix',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function appWith(webDir: string): App {
  return buildApp({
    // Static pages never touch the database.
    db: {} as Db,
    logger: createLogger({ level: 'silent', destination: new LogCapture() }),
    metrics: createMetrics({ processMetrics: false }),
    lifecycle: new Lifecycle(),
    adminToken: testAdminToken,
    webDir,
  });
}

const pageHeaders = {
  'content-security-policy': webContentSecurityPolicy,
  'permissions-policy': 'camera=(self), microphone=(), geolocation=()',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

describe('serving the web apps', () => {
  let dir: string;
  let app: App;
  let missing: App;

  beforeAll(async () => {
    dir = fakeBuild();
    app = appWith(dir);
    missing = appWith(path.join(dir, 'does-not-exist'));
    await Promise.all([app.ready(), missing.ready()]);
  });

  afterAll(async () => {
    await Promise.all([app?.close(), missing?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves each app at its prefix with SPA fallback, the strict CSP and the security headers', async () => {
    const cases = [
      ['/app/', 'wallet'],
      ['/app/history/wtx_123', 'wallet'],
      ['/app/settings', 'wallet'],
      ['/pos/', 'pos'],
      ['/pos/sale/42', 'pos'],
      ['/dashboard/', 'dashboard'],
      ['/dashboard/payments?status=succeeded', 'dashboard'],
    ] as const;
    for (const [url, title] of cases) {
      const response = await app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
      expect(response.body).toContain(`<title>${title}</title>`);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers).toMatchObject(pageHeaders);
    }
    expect(webContentSecurityPolicy).toContain("script-src 'self'");
    expect(webContentSecurityPolicy).not.toContain('unsafe-inline');
    expect(webContentSecurityPolicy).toContain("frame-ancestors 'none'");
  });

  it('redirects the bare prefixes to their slash form', async () => {
    for (const prefix of ['/app', '/pos', '/dashboard']) {
      const response = await app.inject({ method: 'GET', url: prefix });
      expect(response.statusCode).toBe(301);
      expect(response.headers.location).toBe(`${prefix}/`);
    }
  });

  it('serves the service worker and manifest under /app/ (scope /app/) and hashed assets as immutable', async () => {
    const worker = await app.inject({ method: 'GET', url: '/app/sw.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(worker.headers['cache-control']).toBe('no-cache');
    const manifest = await app.inject({ method: 'GET', url: '/app/manifest.webmanifest' });
    expect(manifest.headers['content-type']).toBe('application/manifest+json; charset=utf-8');
    expect(manifest.json()).toMatchObject({ scope: '/app/' });
    const icon = await app.inject({ method: 'GET', url: '/app/icons/icon-192.png' });
    expect(icon.headers['content-type']).toBe('image/png');

    const asset = await app.inject({ method: 'GET', url: '/assets/wallet-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log("wallet")');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers).toMatchObject(pageHeaders);
    const css = await app.inject({ method: 'GET', url: '/assets/wallet-abc123.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const again = await app.inject({
      method: 'GET',
      url: '/assets/wallet-abc123.js',
      headers: { 'if-none-match': String(asset.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers 404 for missing files and never serves anything outside the build or a prefix', async () => {
    const notFound = [
      '/assets/nope.js',
      '/app/missing.png',
      '/app/../secret.txt',
      '/app/%2e%2e/secret.txt',
      '/app/..%2fsecret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/%2e%2e%2fwallet%2findex.html',
      '/app/.hidden.js',
      '/secret.txt',
    ];
    for (const url of notFound) {
      const response = await app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode, leaked: response.body.includes('outside every prefix') }).toEqual({
        url,
        status: 404,
        leaked: false,
      });
    }
  });

  it('answers 503 with a short page saying how to build when the directory is missing', async () => {
    for (const url of ['/app/', '/pos/', '/dashboard/x', '/assets/wallet-abc123.js']) {
      const response = await missing.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('npm run build');
      expect(response.headers).toMatchObject(pageHeaders);
    }
  });

  it('answers GET / with the landing page, in the language asked for, even before the apps are built', async () => {
    const cases = [
      { headers: {}, url: '/', lang: 'en', heading: 'Yunpay 云付' },
      { headers: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' }, url: '/', lang: 'zh-CN', heading: '云付 Yunpay' },
      { headers: { 'accept-language': 'fr-FR,en;q=0.5' }, url: '/', lang: 'en', heading: 'Yunpay 云付' },
      { headers: { 'accept-language': 'zh-TW' }, url: '/?lang=en', lang: 'en', heading: 'Yunpay 云付' },
      { headers: {}, url: '/?lang=zh-CN', lang: 'zh-CN', heading: '云付 Yunpay' },
    ];
    for (const server of [app, missing]) {
      for (const { headers, url, lang, heading } of cases) {
        const response = await server.inject({ method: 'GET', url, headers });
        expect({ url, headers, status: response.statusCode }).toEqual({ url, headers, status: 200 });
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.headers).toMatchObject(pageHeaders);
        expect(response.headers.vary).toContain('accept-language');
        expect(response.body).toContain(`<html lang="${lang}">`);
        expect(response.body).toContain(`<h1>${heading}</h1>`);
        for (const href of ['/app/', '/pos/', '/dashboard/', '/docs', '/readyz']) {
          expect(response.body).toContain(`href="${href}"`);
        }
        // No script at all, and no inline style: the strict CSP holds.
        expect(response.body).not.toMatch(/<script|style=/);
      }
    }
    const css = await app.inject({ method: 'GET', url: '/landing.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const badLanguage = await app.inject({ method: 'GET', url: '/?lang=fr' });
    expect(badLanguage.statusCode).toBe(400);
    expect(badLanguage.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('finds apps/web/dist from the server sources by default', () => {
    expect(defaultWebDir()).toBe(path.resolve(import.meta.dirname, '../../../web/dist'));
  });

  it('keeps the API headers on API routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
