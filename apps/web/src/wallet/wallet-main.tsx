import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/base.css';
import './wallet.css';
import { WalletApp } from './App.js';

const root = document.getElementById('root');
if (root === null) throw new Error('assertion failed: the page has a #root element');
createRoot(root).render(
  <StrictMode>
    <WalletApp />
  </StrictMode>,
);

// The service worker caches the app shell (never API responses); its scope is /app/.
if ('serviceWorker' in navigator && location.pathname.startsWith('/app/')) {
  addEventListener('load', () => {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch((error: unknown) => {
      console.warn('service worker not registered', error);
    });
  });
}
