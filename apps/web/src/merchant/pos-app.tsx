import type { PaymentIntent, WalletDisplayQrCode } from '@yunpay/sdk';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { CameraScanner } from './camera.js';
import { useI18n } from './i18n.js';
import { amountMinorOf, formatMoney, formatTime, pressKey, type KeypadKey } from './keypad.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorCode, merchantClient } from './api.js';

/** How often the POS asks for the intent while it waits (QR scan, customer approval). */
const followIntervalMs = 1_000;
/** Polls at most this long (a dynamic QR lives 5 minutes; an approval 60 s). */
const followDurationMsMax = 6 * 60 * 1_000;

type Phase = 'keypad' | 'scan' | 'qr' | 'outcome';

type Outcome =
  | { kind: 'processing' }
  | { kind: 'waiting_scan' }
  | { kind: 'awaiting' }
  | { kind: 'succeeded' }
  | { kind: 'canceled'; code: string | null }
  | { kind: 'declined'; code: string };

/** What an intent's state means at the counter. */
export function outcomeOf(intent: PaymentIntent): Outcome {
  switch (intent.status) {
    case 'succeeded':
      return { kind: 'succeeded' };
    case 'canceled':
      return { kind: 'canceled', code: intent.cancellation_reason };
    case 'requires_action':
      return intent.next_action?.type === 'wallet_display_qr_code' ? { kind: 'waiting_scan' } : { kind: 'awaiting' };
    case 'requires_payment_method':
      return intent.last_payment_error === null
        ? { kind: 'processing' }
        : {
            kind: 'declined',
            code: intent.last_payment_error.decline_code ?? intent.last_payment_error.code ?? 'declined',
          };
    default:
      return { kind: 'processing' };
  }
}

const keypadKeys: KeypadKey[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '00', '0', 'backspace'];

export function PosApp({ session }: { session: MerchantSessionInfo }) {
  const { t, locale } = useI18n();
  const currency = session.account.default_currency;
  const [digits, setDigits] = useState('');
  const [phase, setPhase] = useState<Phase>('keypad');
  const [intent, setIntent] = useState<PaymentIntent | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const followRef = useRef<AbortController | null>(null);
  const amountMinor = amountMinorOf(digits);
  const amountText = formatMoney(amountMinor, currency, locale);

  const stopFollowing = useCallback(() => {
    followRef.current?.abort();
    followRef.current = null;
  }, []);
  useEffect(() => stopFollowing, [stopFollowing]);

  /** Shows an intent's state; keeps asking while the outcome can still change. */
  const show = useCallback((next: PaymentIntent) => {
    setIntent(next);
    const nextOutcome = outcomeOf(next);
    setOutcome(nextOutcome);
    if (nextOutcome.kind !== 'waiting_scan') setPhase('outcome');
    const pending =
      nextOutcome.kind === 'waiting_scan' || nextOutcome.kind === 'awaiting' || nextOutcome.kind === 'processing';
    if (!pending || followRef.current !== null) return;
    const controller = new AbortController();
    followRef.current = controller;
    const startedMs = Date.now();
    const poll = async () => {
      while (!controller.signal.aborted && Date.now() - startedMs < followDurationMsMax) {
        await new Promise((resolve) => window.setTimeout(resolve, followIntervalMs));
        if (controller.signal.aborted) return;
        let current: PaymentIntent;
        try {
          current = await merchantClient().paymentIntents.retrieve(next.id, {}, { signal: controller.signal });
        } catch {
          continue; // a lost answer: ask again next time
        }
        if (controller.signal.aborted) return;
        setIntent(current);
        const currentOutcome = outcomeOf(current);
        setOutcome(currentOutcome);
        if (currentOutcome.kind !== 'waiting_scan') setPhase('outcome');
        if (
          currentOutcome.kind !== 'waiting_scan' &&
          currentOutcome.kind !== 'awaiting' &&
          currentOutcome.kind !== 'processing'
        ) {
          break;
        }
      }
      if (followRef.current === controller) followRef.current = null;
    };
    void poll();
  }, []);

  const chargeCode = useCallback(
    async (code: string) => {
      if (amountMinor <= 0) {
        setNotice(t('pos.enterAmount'));
        return;
      }
      setNotice(null);
      setOutcome({ kind: 'processing' });
      setPhase('outcome');
      try {
        const created = await merchantClient().paymentIntents.create({
          amount: amountMinor,
          currency,
          confirm: true,
          description: 'POS sale',
          payment_method_data: { type: 'wallet', wallet: { code } },
        });
        show(created);
      } catch (error) {
        setOutcome({ kind: 'declined', code: errorCode(error) });
      }
    },
    [amountMinor, currency, show, t],
  );

  async function showQr() {
    if (amountMinor <= 0) {
      setNotice(t('pos.enterAmount'));
      return;
    }
    setNotice(null);
    setOutcome({ kind: 'processing' });
    try {
      const created = await merchantClient().paymentIntents.create({
        amount: amountMinor,
        currency,
        confirm: true,
        description: 'POS sale (QR)',
        payment_method_data: { type: 'wallet' },
      });
      setPhase('qr');
      show(created);
    } catch (error) {
      setPhase('outcome');
      setOutcome({ kind: 'declined', code: errorCode(error) });
    }
  }

  function newSale() {
    stopFollowing();
    setDigits('');
    setIntent(null);
    setOutcome(null);
    setNotice(null);
    setPhase('keypad');
  }

  const qr: WalletDisplayQrCode | null =
    intent?.next_action?.type === 'wallet_display_qr_code'
      ? (intent.next_action as { wallet_display_qr_code: WalletDisplayQrCode }).wallet_display_qr_code
      : null;

  return (
    <main className="page pos">
      <section className="pos-amount" aria-labelledby="amount-label">
        <h2 id="amount-label" className="label">
          {t('pos.amount')}
        </h2>
        <output className="amount" aria-live="polite" data-amount-minor={amountMinor}>
          {amountText}
        </output>
      </section>

      {phase === 'keypad' && (
        <>
          <div className="keypad" role="group" aria-label={t('pos.keypad')}>
            {keypadKeys.map((key) => (
              <button
                key={key}
                type="button"
                className="key"
                onClick={() => setDigits((current) => pressKey(current, key))}
                aria-label={key === 'backspace' ? t('pos.backspace') : undefined}
              >
                {key === 'backspace' ? '⌫' : key}
              </button>
            ))}
            <button type="button" className="key key-wide secondary" onClick={() => setDigits('')}>
              {t('pos.clear')}
            </button>
          </div>
          <div className="actions">
            <button
              type="button"
              className="button primary"
              onClick={() => (amountMinor > 0 ? setPhase('scan') : setNotice(t('pos.enterAmount')))}
            >
              {t('pos.scan')}
            </button>
            <button type="button" className="button primary" onClick={() => void showQr()}>
              {t('pos.showQr')}
            </button>
          </div>
        </>
      )}

      {phase === 'scan' && <ScanPanel onCode={(code) => void chargeCode(code)} onCancel={() => setPhase('keypad')} />}

      {phase === 'qr' && qr !== null && (
        <section className="card qr-panel" aria-labelledby="qr-title">
          <h2 id="qr-title">{t('pos.showQr')}</h2>
          <img
            className="qr-image"
            src={qr.image_data_url}
            alt={t('pos.qrAlt', { amount: amountText })}
            width={240}
            height={240}
          />
          <p className="hint">{t('pos.qrHint')}</p>
          <button type="button" className="button secondary" onClick={newSale}>
            {t('pos.cancel')}
          </button>
        </section>
      )}

      {notice !== null && (
        <p role="alert" className="error">
          {notice}
        </p>
      )}

      <div role="status" aria-live="polite" className="outcome-region">
        {outcome !== null && <OutcomeBanner outcome={outcome} />}
      </div>

      {phase === 'outcome' && outcome !== null && outcome.kind !== 'processing' && outcome.kind !== 'awaiting' && (
        <>
          {intent !== null && outcome.kind === 'succeeded' && (
            <section className="card receipt" aria-labelledby="receipt-title">
              <h2 id="receipt-title">{t('pos.receipt')}</h2>
              <dl>
                <dt>{t('pos.merchant')}</dt>
                <dd>{session.account.name}</dd>
                <dt>{t('pos.amount')}</dt>
                <dd>{formatMoney(intent.amount, intent.currency, locale)}</dd>
                <dt>{t('pos.payment')}</dt>
                <dd className="mono">{intent.id}</dd>
                <dt>{t('pos.time')}</dt>
                <dd>{formatTime(intent.created, locale)}</dd>
              </dl>
            </section>
          )}
          <button type="button" className="button primary" onClick={newSale}>
            {t('pos.newSale')}
          </button>
        </>
      )}
    </main>
  );
}

function OutcomeBanner({ outcome }: { outcome: Outcome }) {
  const { t } = useI18n();
  switch (outcome.kind) {
    case 'processing':
      return (
        <p className="outcome outcome-processing" data-outcome="processing">
          {t('pos.processing')}
        </p>
      );
    case 'waiting_scan':
      return (
        <p className="outcome outcome-waiting" data-outcome="waiting_scan">
          {t('pos.waitingScan')}
        </p>
      );
    case 'awaiting':
      return (
        <div className="outcome outcome-waiting" data-outcome="awaiting">
          <p className="outcome-title">{t('pos.awaiting')}</p>
          <p>{t('pos.awaitingHint')}</p>
        </div>
      );
    case 'succeeded':
      return (
        <p className="outcome outcome-succeeded" data-outcome="succeeded">
          ✓ {t('pos.succeeded')}
        </p>
      );
    case 'canceled':
      return (
        <p className="outcome outcome-declined" data-outcome="canceled">
          {t('pos.canceled')}
          {outcome.code === null ? '' : ` (${outcome.code})`}
        </p>
      );
    case 'declined':
      return (
        <div className="outcome outcome-declined" data-outcome="declined">
          <p className="outcome-title">✗ {t('pos.declined')}</p>
          <p>
            {t('pos.errorCode')}: <code>{outcome.code}</code>
          </p>
        </div>
      );
  }
}

/** The code field, focused for a USB scanner (it types 18 digits and Enter), and the camera. */
function ScanPanel({ onCode, onCancel }: { onCode: (code: string) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const [camera, setCamera] = useState(false);
  const inputRef = useRef<HTMLInputElement | null>(null);
  useEffect(() => inputRef.current?.focus(), []);

  function submit(event: FormEvent) {
    event.preventDefault();
    const digits = code.replace(/\s+/g, '');
    if (/^\d{18}$/.test(digits)) onCode(digits);
  }

  return (
    <section className="card scan-panel" aria-labelledby="scan-title">
      <h2 id="scan-title">{t('pos.scan')}</h2>
      <form onSubmit={submit}>
        <label htmlFor="payment-code">{t('pos.code')}</label>
        <input
          id="payment-code"
          ref={inputRef}
          name="payment-code"
          inputMode="numeric"
          autoComplete="off"
          pattern="\d{18}"
          maxLength={24}
          required
          value={code}
          onChange={(event) => setCode(event.target.value)}
          aria-describedby="payment-code-hint"
        />
        <p id="payment-code-hint" className="hint">
          {t('pos.codeHint')}
        </p>
        <div className="actions">
          <button type="submit" className="button primary">
            {t('pos.charge')}
          </button>
          <button type="button" className="button secondary" onClick={() => setCamera((on) => !on)}>
            {camera ? t('pos.cameraStop') : t('pos.camera')}
          </button>
          <button type="button" className="button secondary" onClick={onCancel}>
            {t('pos.cancel')}
          </button>
        </div>
      </form>
      {camera && <CameraScanner onCode={onCode} />}
    </section>
  );
}
