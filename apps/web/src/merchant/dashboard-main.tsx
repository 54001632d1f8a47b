import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardApp } from './dashboard-app.js';
import { I18nProvider } from './i18n.js';
import { MerchantShell } from './shell.js';
import './merchant.css';

const root = document.getElementById('root');
if (root === null) throw new Error('assertion failed: the page has a #root element');
createRoot(root).render(
  <StrictMode>
    <I18nProvider>
      <MerchantShell titleKey="app.dashboard">{(session) => <DashboardApp session={session} />}</MerchantShell>
    </I18nProvider>
  </StrictMode>,
);
