import { fileURLToPath } from 'node:url';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * Three apps, one build: the wallet PWA (served at /app/), the merchant POS (/pos/) and the
 * merchant dashboard (/dashboard/). The server serves dist/ (apps/server/src/web.ts). Scripts and
 * styles are emitted as files (no inline script or style), so pages run under a strict CSP.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  resolve: {
    alias: { '@yunpay/sdk': path.resolve(root, '../../packages/sdk/src/index.ts') },
  },
  build: {
    outDir: path.resolve(root, 'dist'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    // bwip-js (the Code 128 barcode, ~930 kB) is its own lazily loaded chunk: only the Pay screen fetches it.
    chunkSizeWarningLimit: 1_024,
    sourcemap: true,
    rollupOptions: {
      input: {
        wallet: path.resolve(root, 'wallet/index.html'),
        pos: path.resolve(root, 'pos/index.html'),
        dashboard: path.resolve(root, 'dashboard/index.html'),
      },
    },
  },
});
