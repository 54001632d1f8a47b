import { useEffect, useState } from 'react';
import { BalancePage } from './dashboard-balance.js';
import { KeysPage } from './dashboard-keys.js';
import { OverviewPage } from './dashboard-overview.js';
import { PaymentDetail, PaymentsPage } from './dashboard-payments.js';
import { QrPage } from './dashboard-qr.js';
import { WebhooksPage } from './dashboard-webhooks.js';
import { useI18n, type MessageKey } from './i18n.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';

/** Sections are addressed by the URL fragment (#/overview, #/payments/pi_…, #/balance …); the overview first. */
const sections: { path: string; label: MessageKey }[] = [
  { path: 'overview', label: 'nav.overview' },
  { path: 'payments', label: 'nav.payments' },
  { path: 'balance', label: 'nav.balance' },
  { path: 'keys', label: 'nav.keys' },
  { path: 'webhooks', label: 'nav.webhooks' },
  { path: 'qr', label: 'nav.qr' },
];

function currentRoute(): string[] {
  const parts = window.location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '');
  return parts.length === 0 ? ['overview'] : parts;
}

export function DashboardApp({ session }: { session: MerchantSessionInfo }) {
  const { t } = useI18n();
  const [route, setRoute] = useState<string[]>(currentRoute);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const [section, id] = route;

  return (
    <div className="dashboard">
      <nav className="sidenav" aria-label={t('nav.label')}>
        <ul>
          {sections.map((entry) => (
            <li key={entry.path}>
              <a href={`#/${entry.path}`} aria-current={section === entry.path ? 'page' : undefined}>
                {t(entry.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="page dashboard-main">
        {section === 'overview' && <OverviewPage session={session} />}
        {section === 'payments' && id === undefined && <PaymentsPage session={session} />}
        {section === 'payments' && id !== undefined && <PaymentDetail key={id} id={id} />}
        {section === 'balance' && <BalancePage />}
        {section === 'keys' && <KeysPage />}
        {section === 'webhooks' && <WebhooksPage />}
        {section === 'qr' && <QrPage session={session} />}
      </main>
    </div>
  );
}
