import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import type { Me, Notification } from '@yunpay/sdk';
import type { AppWalletClient } from './client.js';
import { useI18n } from '../shared/i18n.js';
import { currencyName, formatMoney } from '../shared/money.js';
import type { MessageKey } from './messages.js';

/** What every signed-in screen reads: the client, the person, navigation and a data version. */
export interface WalletContextValue {
  client: AppWalletClient;
  me: Me;
  setMe: (me: Me) => void;
  navigate: (path: string) => void;
  /** Bumped when money moved (a notification arrived, a payment was made): screens reload. */
  dataVersion: number;
  moneyMoved: () => void;
  signOut: () => Promise<void>;
  /** The last live notification (null until one arrives): the Pay screen notices its code was used. */
  latestNotification: Notification | null;
}

export const WalletContext = createContext<WalletContextValue | null>(null);

export function useWallet(): WalletContextValue {
  const value = useContext(WalletContext);
  if (value === null) throw new Error('assertion failed: useWallet inside the signed-in app');
  return value;
}

/** The app's i18n with its message keys, plus money formatting in the current locale. */
export function useText() {
  const i18n = useI18n<MessageKey>();
  const money = useCallback(
    (amountMinor: number, currency: string) => formatMoney(amountMinor, currency, i18n.locale),
    [i18n.locale],
  );
  const dateTime = useCallback(
    (unixSeconds: number) =>
      new Intl.DateTimeFormat(i18n.locale, { dateStyle: 'medium', timeStyle: 'short' }).format(unixSeconds * 1000),
    [i18n.locale],
  );
  const currency = useCallback((code: string) => currencyName(code, i18n.locale), [i18n.locale]);
  return { ...i18n, money, dateTime, currency };
}

/** Paths below /app/: "/" home, "/pay", "/history/wtx_…" … A #fragment (/settings#pin) is the screen's to read. */
export function usePath(): [string, (path: string) => void] {
  const read = () => {
    const path = location.pathname.replace(/^\/app/, '');
    return path === '' ? '/' : path;
  };
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onPop = () => setPath(read());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: string) => {
    history.pushState(null, '', `/app${next}`);
    setPath(next.split('#')[0] ?? '/');
    scrollTo(0, 0);
  }, []);
  return [path, navigate];
}

/** Loads something when the inputs change; keeps the last value while reloading. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, inputs: readonly unknown[]) {
  const [state, setState] = useState<{ value: T | null; error: unknown; loading: boolean }>({
    value: null,
    error: null,
    loading: true,
  });
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setState({ value, error: null, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((previous) => ({ ...previous, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, inputs);
  return state;
}
