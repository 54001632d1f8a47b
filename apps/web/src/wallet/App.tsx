import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { YunpayApiError, type Me, type Notification } from '@yunpay/sdk';
import { I18nProvider } from '../shared/i18n.js';
import { clearOfflineKeys } from './offline-key-store.js';
import { ApprovalPrompt } from './approvals.js';
import { AuthScreen } from './auth.js';
import { type AppWalletClient, createWalletClient, deviceNameShown } from './client.js';
import { WalletContext, usePath, useText, type WalletContextValue } from './context.js';
import { HistoryScreen, ReceiptScreen } from './history.js';
import { catalogs, type MessageKey } from './messages.js';
import { HomeScreen, SendScreen, TopUpScreen } from './money-screens.js';
import { PayScreen, paymentMadeOf } from './pay.js';
import { ScanScreen } from './scan.js';
import { SettingsScreen } from './settings.js';

const tabs: { path: string; key: MessageKey }[] = [
  { path: '/', key: 'nav.home' },
  { path: '/pay', key: 'nav.pay' },
  { path: '/scan', key: 'nav.scan' },
  { path: '/history', key: 'nav.history' },
  { path: '/settings', key: 'nav.settings' },
];
/** Notifications shown at once, at most. */
const toastsMax = 3;
const toastLifeMs = 6_000;

function Screen(props: { path: string }) {
  const receipt = /^\/history\/([A-Za-z0-9_]{1,64})$/.exec(props.path);
  if (receipt !== null) return <ReceiptScreen id={receipt[1]!} />;
  switch (props.path) {
    case '/topup':
      return <TopUpScreen />;
    case '/send':
      return <SendScreen />;
    case '/pay':
      return <PayScreen />;
    case '/scan':
      return <ScanScreen />;
    case '/history':
      return <HistoryScreen />;
    case '/settings':
      return <SettingsScreen />;
    default:
      return <HomeScreen />;
  }
}

function notificationText(notification: Notification, t: ReturnType<typeof useText>): string {
  const data = notification.data as { amount?: unknown; currency?: unknown; from?: unknown; from_phone?: unknown };
  if (notification.type === 'money.received' && typeof data.amount === 'number' && typeof data.currency === 'string') {
    const amount = t.money(data.amount, data.currency);
    const name = typeof data.from === 'string' && data.from !== '' ? data.from : null;
    const phone = typeof data.from_phone === 'string' && data.from_phone !== '' ? data.from_phone : null;
    if (name !== null && phone !== null) return t.t('notify.receivedFromPhone', { amount, name, phone });
    if (name !== null) return t.t('notify.receivedFrom', { amount, name });
    return t.t('notify.received', { amount });
  }
  const paid = paymentMadeOf(notification);
  if (paid !== null) {
    const values = { amount: t.money(paid.amount, paid.currency), merchant: paid.to };
    return t.t(paid.livemode ? 'notify.paid' : 'notify.paidTest', values);
  }
  if (notification.type === 'security.new_device') {
    const deviceName = (notification.data as { device_name?: unknown }).device_name;
    const device = typeof deviceName === 'string' ? deviceNameShown(deviceName, t.t) : t.t('device.browser');
    return t.t('notify.security.new_device', { device });
  }
  const known = `notify.${notification.type}` as MessageKey;
  const text = t.t(known);
  return text === known ? t.t('notify.generic', { type: notification.type }) : text;
}

/**
 * Notifications a screen already answers for itself: the Top-up screen says "Topped up ¥50.00.",
 * Send, Scan and Pay say what was paid. A toast saying it again would show every answer twice.
 */
function reportedByScreen(path: string, type: string): boolean {
  if (path === '/topup') return type.startsWith('topup.');
  if (path === '/send' || path === '/scan' || path === '/pay') return type === 'payment.made';
  return false;
}

function SignedIn(props: { client: AppWalletClient; me: Me; setMe: (me: Me) => void; onSignedOut: () => void }) {
  const text = useText();
  const { t } = text;
  const [path, navigate] = usePath();
  const [dataVersion, setDataVersion] = useState(0);
  const [approvalVersion, setApprovalVersion] = useState(0);
  // Toasts keep the notification, not its text: switching the language rewrites the ones shown.
  const [toasts, setToasts] = useState<Notification[]>([]);
  const [latestNotification, setLatestNotification] = useState<Notification | null>(null);
  const moneyMoved = useCallback(() => setDataVersion((value) => value + 1), []);
  // What the stream reads when a notification arrives: the current screen.
  const pathRef = useRef(path);
  pathRef.current = path;

  // Live notifications (SSE read with fetch streaming: the stream needs the Authorization header).
  useEffect(() => {
    const controller = new AbortController();
    const run = async () => {
      try {
        for await (const notification of props.client.notifications.stream({ signal: controller.signal })) {
          if (notification.type.startsWith('payment.approval')) setApprovalVersion((value) => value + 1);
          if (notification.type !== 'payment.approval_requested') moneyMoved();
          setLatestNotification(notification);
          if (reportedByScreen(pathRef.current, notification.type)) continue;
          setToasts((list) => [...list.slice(-(toastsMax - 1)), notification]);
          setTimeout(() => setToasts((list) => list.filter((item) => item.id !== notification.id)), toastLifeMs);
        }
      } catch {
        // The stream ended for good (signed out): screens still work without it.
      }
    };
    void run();
    return () => controller.abort();
    // The screen is read through a ref and toasts are worded when shown: the stream does not restart for either.
  }, [props.client, moneyMoved]);

  const signOut = useCallback(async () => {
    await props.client.signOut().catch(() => undefined);
    await clearOfflineKeys().catch(() => undefined);
    localStorage.removeItem('yunpay.wallet.offlineKeyId');
    history.replaceState(null, '', '/app/');
    props.onSignedOut();
  }, [props]);

  const context = useMemo<WalletContextValue>(
    () => ({
      client: props.client,
      me: props.me,
      setMe: props.setMe,
      navigate,
      dataVersion,
      moneyMoved,
      signOut,
      latestNotification,
    }),
    [props.client, props.me, props.setMe, navigate, dataVersion, moneyMoved, signOut, latestNotification],
  );
  const activeTab = path.startsWith('/history') ? '/history' : path;
  return (
    <WalletContext.Provider value={context}>
      <header className="top">
        <span className="top-title">{t('app.name')}</span>
      </header>
      <main id="main" className="screen">
        <Screen path={path} />
      </main>
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <p key={toast.id} className="toast">
            {notificationText(toast, text)}
          </p>
        ))}
      </div>
      <nav className="tabs" aria-label={t('nav.label')}>
        {tabs.map((tab) => (
          <a
            key={tab.path}
            href={`/app${tab.path}`}
            aria-current={activeTab === tab.path ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault();
              navigate(tab.path);
            }}
          >
            {t(tab.key)}
          </a>
        ))}
      </nav>
      <ApprovalPrompt version={approvalVersion} />
    </WalletContext.Provider>
  );
}

function Wallet() {
  const { t } = useText();
  const [state, setState] = useState<{ kind: 'loading' } | { kind: 'signedOut' } | { kind: 'signedIn'; me: Me }>({
    kind: 'loading',
  });
  const client = useMemo(() => createWalletClient(() => setState({ kind: 'signedOut' })), []);

  const loadMe = useCallback(async () => {
    try {
      // After a reload the access token is gone: the cookie (if any) gets a new one.
      if (!(await client.resume())) return setState({ kind: 'signedOut' });
      setState({ kind: 'signedIn', me: await client.me() });
    } catch (error) {
      if (!(error instanceof YunpayApiError)) console.warn('could not reach Yunpay', error);
      setState({ kind: 'signedOut' });
    }
  }, [client]);

  useEffect(() => {
    void loadMe();
  }, [loadMe]);

  const setMe = useCallback((me: Me) => setState({ kind: 'signedIn', me }), []);
  if (state.kind === 'loading')
    return (
      <main id="main" className="screen">
        <p>{t('common.loading')}</p>
      </main>
    );
  if (state.kind === 'signedOut') return <AuthScreen client={client} onSignedIn={() => void loadMe()} />;
  return <SignedIn client={client} me={state.me} setMe={setMe} onSignedOut={() => setState({ kind: 'signedOut' })} />;
}

export function WalletApp() {
  return (
    <I18nProvider catalogs={catalogs}>
      <Wallet />
    </I18nProvider>
  );
}
