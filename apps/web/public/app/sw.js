/* global self, caches, fetch, URL, Response */
/* Yunpay Wallet service worker (scope /app/): keeps the app shell for offline use. It never
 * touches API calls (/wallet/v1, /v1, …): balances, codes and tokens always come from the network
 * or nowhere. Hashed files under /assets/ never change, so they are served from the cache first. */
const shellCache = 'yunpay-wallet-shell-v1';
const shellUrl = '/app/';
const staticUrls = ['/app/manifest.webmanifest', '/app/icons/icon.svg', '/app/icons/icon-192.png'];
const cachedEntriesMax = 200;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(shellCache);
      const response = await fetch(shellUrl, { cache: 'no-cache' });
      if (!response.ok) throw new Error(`the app shell answered ${response.status}`);
      const html = await response.clone().text();
      await cache.put(shellUrl, response);
      // The page's own scripts and styles (hashed names) are listed in the shell.
      const assets = [...new Set(html.match(/\/assets\/[A-Za-z0-9._-]+/g) ?? [])];
      await cache.addAll([...assets, ...staticUrls]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== shellCache) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

async function trim(cache) {
  const keys = await cache.keys();
  for (const request of keys.slice(0, Math.max(0, keys.length - cachedEntriesMax))) await cache.delete(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === 'navigate' && url.pathname.startsWith('/app/')) {
    // Network first, so a new release shows at once; the cached shell when offline.
    event.respondWith(
      (async () => {
        try {
          const response = await fetch(request);
          if (response.ok) {
            const cache = await caches.open(shellCache);
            await cache.put(shellUrl, response.clone());
          }
          return response;
        } catch {
          const cached = await caches.match(shellUrl);
          return cached ?? Response.error();
        }
      })(),
    );
    return;
  }

  if (url.pathname.startsWith('/assets/') || staticUrls.includes(url.pathname)) {
    event.respondWith(
      (async () => {
        const cached = await caches.match(request);
        if (cached) return cached;
        const response = await fetch(request);
        if (response.ok) {
          const cache = await caches.open(shellCache);
          await cache.put(request, response.clone());
          await trim(cache);
        }
        return response;
      })(),
    );
  }
  // Everything else (the APIs) goes to the network untouched.
});
