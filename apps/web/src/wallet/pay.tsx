import { useEffect, useRef, useState } from 'react';
import QRCode from 'qrcode';
import type { Me, Notification } from '@yunpay/sdk';
import { Alert } from '../shared/ui.js';
import { errorText, isNetworkFailure } from './client.js';
import { useText, useWallet } from './context.js';
import { importOfflineSecret, offlineCode, offlinePeriodS } from './offline-code.js';
import { loadOfflineKey, saveOfflineKey, type StoredOfflineKey } from './offline-key-store.js';

/** Refresh the online code this long before it expires (and at least every 60 s). */
const refreshMarginMs = 5_000;
const refreshEveryMsMax = 60_000;

interface ShownCode {
  code: string;
  mode: 'online' | 'offline';
  /** When to show a new one (epoch ms). */
  refreshAtMs: number;
}

/** What a payment.made notification tells: a live payment, or a test-mode merchant's simulated one. */
export interface PaymentMade {
  amount: number;
  currency: string;
  to: string;
  /** False: the merchant is in test mode; no money moved. */
  livemode: boolean;
}

export function paymentMadeOf(notification: Notification): PaymentMade | null {
  if (notification.type !== 'payment.made') return null;
  const data = notification.data as { amount?: unknown; currency?: unknown; to?: unknown; livemode?: unknown };
  if (typeof data.amount !== 'number' || typeof data.currency !== 'string') return null;
  return {
    amount: data.amount,
    currency: data.currency,
    to: typeof data.to === 'string' ? data.to : '',
    livemode: data.livemode !== false,
  };
}

/**
 * The full-screen answer when the shown code was used at a till: amount, merchant, and whether it
 * was a test (no money moved). Done goes back to the (already replaced) code.
 */
function PaymentResult(props: { result: PaymentMade; onDone: () => void }) {
  const { t, money } = useText();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
  }, []);
  const { result } = props;
  const values = { amount: money(result.amount, result.currency), merchant: result.to };
  return (
    <dialog
      ref={dialog}
      className={result.livemode ? 'pay-result' : 'pay-result pay-result-test'}
      aria-labelledby="pay-result-title"
      onCancel={props.onDone}
    >
      <div className="stack">
        <p className="pay-result-mark" aria-hidden="true">
          {result.livemode ? '✓' : '⚑'}
        </p>
        <h2 id="pay-result-title">{t(result.livemode ? 'pay.resultTitle' : 'pay.resultTestTitle')}</h2>
        <p className="pay-result-amount">{values.amount}</p>
        <p>{t('pay.resultBody', values)}</p>
        {result.livemode ? null : <Alert tone="info">{t('pay.resultTestNote', values)}</Alert>}
        <button type="button" className="primary" onClick={props.onDone}>
          {t('pay.done')}
        </button>
      </div>
    </dialog>
  );
}

/** Groups 18 digits for reading aloud: 4-4-4-4-2. */
export function groupDigits(code: string): string {
  return code.replace(/(\d{4})(?=\d)/g, '$1 ');
}

function offlineKeyId(me: Me, deviceId: string): string {
  return `${me.id}:${deviceId}`;
}

/**
 * The offline key of this device: from IndexedDB, or enrolled now (online) and stored. Enrolling
 * needs the dev_ id of the current device (GET /devices, the entry with current: true).
 */
async function ensureOfflineKey(
  client: ReturnType<typeof useWallet>['client'],
  me: Me,
): Promise<StoredOfflineKey | null> {
  const devices = await client.devices.list();
  const current = devices.data.find((device) => device.current);
  if (current === undefined) return null;
  const id = offlineKeyId(me, current.id);
  const stored = await loadOfflineKey(id).catch(() => null);
  if (stored !== null) return stored;
  // One enrollment at a time per device: enrolling again replaces the server's secret, so two
  // overlapping enrollments could leave this phone with the secret the server no longer has.
  let pending = enrollments.get(id);
  if (pending === undefined) {
    pending = (async () => {
      const enrolled = await client.devices.enrollOfflineKey(current.id);
      const record: StoredOfflineKey = {
        id,
        deviceNumber: enrolled.device_number,
        key: await importOfflineSecret(enrolled.secret),
        enrolledAt: enrolled.enrolled_at,
      };
      await saveOfflineKey(record);
      localStorage.setItem('yunpay.wallet.offlineKeyId', id);
      return record;
    })().finally(() => enrollments.delete(id));
    enrollments.set(id, pending);
  }
  return pending;
}

/** Enrollments under way, by offline key id (see ensureOfflineKey). */
const enrollments = new Map<string, Promise<StoredOfflineKey>>();

async function storedOfflineKey(): Promise<StoredOfflineKey | null> {
  const id = localStorage.getItem('yunpay.wallet.offlineKeyId');
  return id === null ? null : loadOfflineKey(id).catch(() => null);
}

export function PayScreen() {
  const { t } = useText();
  const { client, me, latestNotification } = useWallet();
  const [shown, setShown] = useState<ShownCode | null>(null);
  const [result, setResult] = useState<PaymentMade | null>(null);
  /** The notification already answered (one from before this screen opened counts as answered). */
  const answered = useRef(latestNotification?.id ?? null);
  const [images, setImages] = useState<{ qr: string; barcode: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nowMs, setNowMs] = useState(Date.now());
  const [generation, setGeneration] = useState(0);
  const offlineKey = useRef<StoredOfflineKey | null>(null);

  // Enroll (once) for offline codes while online, so the phone can pay when the network is gone.
  useEffect(() => {
    let active = true;
    if (navigator.onLine) {
      ensureOfflineKey(client, me).then(
        (key) => {
          if (active) offlineKey.current = key;
        },
        () => undefined,
      );
    } else {
      void storedOfflineKey().then((key) => {
        if (active) offlineKey.current = key;
      });
    }
    return () => {
      active = false;
    };
  }, [client, me]);

  // Get a code: online when possible, else offline from the device key.
  useEffect(() => {
    let active = true;
    const makeOffline = async (): Promise<ShownCode | null> => {
      const key = offlineKey.current ?? (await storedOfflineKey());
      if (key === null) return null;
      const now = Date.now();
      const stepEndMs = (Math.floor(now / 1000 / offlinePeriodS) + 1) * offlinePeriodS * 1000;
      return {
        code: await offlineCode({ key: key.key, deviceNumber: key.deviceNumber, nowMs: now }),
        mode: 'offline',
        refreshAtMs: stepEndMs,
      };
    };
    const load = async () => {
      let next: ShownCode | null = null;
      if (navigator.onLine) {
        try {
          const code = await client.paymentCodes.create();
          const expiresMs = code.expires_at * 1000;
          next = {
            code: code.code,
            mode: 'online',
            refreshAtMs: Math.min(Date.now() + refreshEveryMsMax, expiresMs - refreshMarginMs),
          };
        } catch (caught) {
          if (!isNetworkFailure(caught)) {
            if (active) setError(errorText(caught, t));
            return;
          }
        }
      }
      next ??= await makeOffline();
      if (!active) return;
      if (next === null) {
        setError(t('pay.offlineUnavailable'));
        setShown(null);
        return;
      }
      setError(null);
      setShown(next);
    };
    void load();
    return () => {
      active = false;
    };
  }, [client, generation, t]);

  // Draw the code.
  useEffect(() => {
    if (shown === null) return;
    let active = true;
    const draw = async () => {
      // bwip-js is large: loaded with the Pay screen only (the service worker caches the chunk).
      const [qr, { default: bwipjs }] = await Promise.all([
        QRCode.toDataURL(shown.code, { errorCorrectionLevel: 'M', margin: 4, scale: 6 }),
        import('bwip-js/browser'),
      ]);
      const svg = bwipjs.toSVG({
        bcid: 'code128',
        text: shown.code,
        scale: 2,
        height: 14,
        includetext: false,
        paddingwidth: 10,
      });
      if (active) setImages({ qr, barcode: `data:image/svg+xml;base64,${btoa(svg)}` });
    };
    void draw();
    return () => {
      active = false;
    };
  }, [shown]);

  // The shown code was used at a till (paid, or waiting for approval): replace it at once, and
  // say what was paid. The live notification stream tells us; no polling.
  useEffect(() => {
    if (latestNotification === null || latestNotification.id === answered.current) return;
    answered.current = latestNotification.id;
    const paid = paymentMadeOf(latestNotification);
    if (paid === null && latestNotification.type !== 'payment.approval_requested') return;
    if (paid !== null) setResult(paid);
    setGeneration((value) => value + 1);
  }, [latestNotification]);

  // Tick every second; fetch the next code when this one is due.
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), 1_000);
    const refresh = () => setGeneration((value) => value + 1);
    addEventListener('online', refresh);
    addEventListener('offline', refresh);
    return () => {
      clearInterval(timer);
      removeEventListener('online', refresh);
      removeEventListener('offline', refresh);
    };
  }, []);
  useEffect(() => {
    if (shown !== null && nowMs >= shown.refreshAtMs) setGeneration((value) => value + 1);
  }, [nowMs, shown]);

  const seconds = shown === null ? 0 : Math.max(0, Math.ceil((shown.refreshAtMs - nowMs) / 1000));
  return (
    <>
      <h1>{t('pay.title')}</h1>
      <section className="card pay-card" aria-live="polite">
        <p>{t('pay.instructions')}</p>
        {error === null ? null : <Alert>{error}</Alert>}
        {shown !== null && images !== null ? (
          <>
            <img className="barcode" src={images.barcode} alt={t('pay.barcodeAlt')} />
            <p className="code-digits" aria-label={t('pay.digits')} data-code={shown.code} data-mode={shown.mode}>
              {groupDigits(shown.code)}
            </p>
            <img className="qr" src={images.qr} alt={t('pay.qrAlt')} width={240} height={240} />
            {shown.mode === 'offline' ? <Alert tone="info">{t('pay.offline')}</Alert> : null}
            <p className="muted" aria-live="off">
              {t('pay.expires', { seconds })}
            </p>
          </>
        ) : error === null ? (
          <p>{t('common.loading')}</p>
        ) : null}
        <button type="button" onClick={() => setGeneration((value) => value + 1)}>
          {t('pay.refresh')}
        </button>
      </section>
      {result === null ? null : <PaymentResult result={result} onDone={() => setResult(null)} />}
    </>
  );
}
