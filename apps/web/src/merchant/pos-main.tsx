import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nProvider } from './i18n.js';
import { PosApp } from './pos-app.js';
import { MerchantShell } from './shell.js';
import './merchant.css';

const root = document.getElementById('root');
if (root === null) throw new Error('assertion failed: the page has a #root element');
createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <MerchantShell titleKey="app.pos">{(session) => <PosApp session={session} />}</MerchantShell>
    </I18nProvider>
  </StrictMode>,
);
