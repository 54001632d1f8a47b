import { currencyExponent, type PaymentIntent, type WalletDisplayQrCode } from '@yunpay/sdk';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { CameraScanner } from './camera.js';
import { useI18n, type MessageKey, type Translate } from './i18n.js';
import { amountMinorOf, formatMoney, formatTime, keypadKeyOf, pressKey, type KeypadKey } from './keypad.js';
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

/** The codes that have words in the catalogs (pos.error.<code>). */
type PosErrorCode<Key = MessageKey> = Key extends `pos.error.${infer Code}` ? Code : never;

/** Every error and cancellation code the POS can meet, each with words for the cashier. */
const knownErrorCodes = [
  'payment_code_used',
  'payment_code_expired',
  'payment_code_invalid',
  'offline_limit_exceeded',
  'insufficient_funds',
  'limit_exceeded',
  'wallet_frozen',
  'wallet_closed',
  'currency_unsupported',
  'amount_too_large',
  'abandoned',
  'requested_by_customer',
  'automatic',
  'duplicate',
  'fraudulent',
  'payment_intent_authentication_failure',
  'payment_intent_unexpected_state',
  'qr_already_paid',
  'card_declined',
  'processing_error',
  'rate_limited',
  'unauthorized',
  'api_key_invalid',
  'api_key_expired',
  'network',
  'timeout',
] as const satisfies readonly PosErrorCode[];

/** What the cashier reads for a code: never the raw code (it stays in data-code for support). */
export function errorText(t: Translate, code: string | null): string {
  const known = (knownErrorCodes as readonly string[]).includes(code ?? '');
  return t(known ? (`pos.error.${code}` as MessageKey) : 'pos.error.unknown');
}

const keypadKeys: KeypadKey[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '00', '0', 'backspace'];

/** True when a key press belongs to a form control (the code field, the language menu, a button's Enter). */
function typedIntoControl(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (target === null) return false;
  if (target.closest('input, select, textarea, [contenteditable="true"]') !== null) return true;
  return event.key === 'Enter' && target.closest('button, a') !== null;
}

export function PosApp({ session }: { session: MerchantSessionInfo }) {
  const { t, locale } = useI18n();
  const currency = session.account.default_currency;
  const exponent = currencyExponent(currency) ?? 0;
  const [entry, setEntry] = useState('');
  const [phase, setPhase] = useState<Phase>('keypad');
  /** How the last attempt was made: Try again repeats it for the same sale. */
  const [method, setMethod] = useState<'scan' | 'qr'>('scan');
  const [intent, setIntent] = useState<PaymentIntent | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [canceling, setCanceling] = useState(false);
  const followRef = useRef<AbortController | null>(null);
  const amountMinor = amountMinorOf(entry, exponent);
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
      setMethod('scan');
      setNotice(null);
      setOutcome({ kind: 'processing' });
      setPhase('outcome');
      try {
        const created = await merchantClient().paymentIntents.create({
          amount: amountMinor,
          currency,
          confirm: true,
          // No English baked in: the dashboard names POS sales in its own language (issue 14).
          metadata: { yunpay_pos: 'code' },
          payment_method_data: { type: 'wallet', wallet: { code } },
        });
        show(created);
      } catch (error) {
        setOutcome({ kind: 'declined', code: errorCode(error) });
      }
    },
    [amountMinor, currency, show, t],
  );

  const showQr = useCallback(async () => {
    if (amountMinor <= 0) {
      setNotice(t('pos.enterAmount'));
      return;
    }
    setMethod('qr');
    setNotice(null);
    setOutcome({ kind: 'processing' });
    try {
      const created = await merchantClient().paymentIntents.create({
        amount: amountMinor,
        currency,
        confirm: true,
        metadata: { yunpay_pos: 'qr' },
        payment_method_data: { type: 'wallet' },
      });
      setPhase('qr');
      show(created);
    } catch (error) {
      setPhase('outcome');
      setOutcome({ kind: 'declined', code: errorCode(error) });
    }
  }, [amountMinor, currency, show, t]);

  const startScan = useCallback(() => {
    if (amountMinor > 0) {
      setNotice(null);
      setPhase('scan');
    } else {
      setNotice(t('pos.enterAmount'));
    }
  }, [amountMinor, t]);

  /** Back to the keypad with the amount kept: the same sale, to be paid another way or again. */
  const backToSale = useCallback(() => {
    stopFollowing();
    setIntent(null);
    setOutcome(null);
    setPhase('keypad');
  }, [stopFollowing]);

  function newSale() {
    backToSale();
    setEntry('');
    setNotice(null);
  }

  /** The same sale again, the same way: a new payment intent for the same amount. */
  function tryAgain() {
    backToSale();
    setNotice(null);
    if (method === 'qr') void showQr();
    else setPhase('scan');
  }

  /** Cancels the waiting payment on the server (the customer can no longer pay or approve it). */
  async function cancelPayment() {
    if (intent === null) return backToSale();
    stopFollowing();
    setCanceling(true);
    try {
      await merchantClient().paymentIntents.cancel(intent.id);
      setNotice(null);
      backToSale();
    } catch (error) {
      // Paid or declined meanwhile: say so, and show what the payment became.
      const current = await merchantClient()
        .paymentIntents.retrieve(intent.id)
        .catch(() => null);
      setNotice(current === null ? errorText(t, errorCode(error)) : t('pos.cancelFailed'));
      if (current !== null) show(current);
    } finally {
      setCanceling(false);
    }
  }

  // A physical keyboard works the keypad: digits, the decimal point, Backspace, Escape and Enter.
  useEffect(() => {
    if (phase !== 'keypad') return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typedIntoControl(event)) return;
      if (event.key === 'Enter') {
        event.preventDefault();
        startScan();
        return;
      }
      const key = keypadKeyOf(event.key);
      if (key === null) return;
      event.preventDefault();
      setNotice(null);
      setEntry((current) => pressKey(current, key, exponent));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [phase, exponent, startScan]);

  const qr: WalletDisplayQrCode | null =
    intent?.next_action?.type === 'wallet_display_qr_code'
      ? (intent.next_action as { wallet_display_qr_code: WalletDisplayQrCode }).wallet_display_qr_code
      : null;
  const failed = outcome?.kind === 'declined' || outcome?.kind === 'canceled';

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

      {/* First after the amount: at 360×800 the cashier sees the state without scrolling. */}
      <div role="status" aria-live="polite" className="outcome-region">
        {outcome !== null && <OutcomeBanner outcome={outcome} livemode={intent?.livemode ?? session.livemode} />}
      </div>

      {notice !== null && (
        <p role="alert" className="error">
          {notice}
        </p>
      )}

      {phase === 'keypad' && (
        <>
          <div className="keypad" role="group" aria-label={t('pos.keypad')}>
            {keypadKeys.map((key) => (
              <button
                key={key}
                type="button"
                className="key"
                onClick={() => setEntry((current) => pressKey(current, key, exponent))}
                aria-label={key === 'backspace' ? t('pos.backspace') : undefined}
              >
                {key === 'backspace' ? '⌫' : key}
              </button>
            ))}
            <button type="button" className="key key-wide secondary" onClick={() => setEntry('')}>
              {t('pos.clear')}
            </button>
          </div>
          <div className="actions">
            <button type="button" className="button primary" onClick={startScan}>
              {t('pos.scan')}
            </button>
            <button type="button" className="button primary" onClick={() => void showQr()}>
              {t('pos.showQr')}
            </button>
          </div>
        </>
      )}

      {phase === 'scan' && <ScanPanel onCode={(code) => void chargeCode(code)} onCancel={backToSale} />}

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
          <CancelButton canceling={canceling} onCancel={() => void cancelPayment()} />
        </section>
      )}

      {phase === 'outcome' && outcome?.kind === 'awaiting' && (
        <div className="actions">
          <CancelButton canceling={canceling} onCancel={() => void cancelPayment()} />
        </div>
      )}

      {phase === 'outcome' && outcome !== null && outcome.kind !== 'processing' && outcome.kind !== 'awaiting' && (
        <>
          {intent !== null && outcome.kind === 'succeeded' && (
            <section className="card receipt" aria-labelledby="receipt-title">
              <h2 id="receipt-title">{t('pos.receipt')}</h2>
              {!intent.livemode && <p className="test-note">{t('pos.testPayment')}</p>}
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
          <div className="actions">
            {failed && (
              <button type="button" className="button primary" onClick={tryAgain}>
                {t('pos.tryAgain')}
              </button>
            )}
            <button type="button" className={failed ? 'button secondary' : 'button primary'} onClick={newSale}>
              {t('pos.newSale')}
            </button>
          </div>
        </>
      )}
    </main>
  );
}

function CancelButton({ canceling, onCancel }: { canceling: boolean; onCancel: () => void }) {
  const { t } = useI18n();
  return (
    <button type="button" className="button secondary" onClick={onCancel} disabled={canceling} aria-busy={canceling}>
      {canceling ? t('pos.canceling') : t('pos.cancel')}
    </button>
  );
}

function OutcomeBanner({ outcome, livemode }: { outcome: Outcome; livemode: boolean }) {
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
        <div className="outcome outcome-succeeded" data-outcome="succeeded" data-livemode={String(livemode)}>
          <p className="outcome-title">
            ✓ {t('pos.succeeded')}
            {!livemode && <span className="badge badge-test">{t('pos.testBadge')}</span>}
          </p>
          {!livemode && <p>{t('pos.testPayment')}</p>}
        </div>
      );
    case 'canceled':
      return (
        <div className="outcome outcome-declined" data-outcome="canceled" data-code={outcome.code ?? ''}>
          <p className="outcome-title">✗ {t('pos.canceled')}</p>
          {outcome.code !== null && <p>{errorText(t, outcome.code)}</p>}
        </div>
      );
    case 'declined':
      return (
        <div className="outcome outcome-declined" data-outcome="declined" data-code={outcome.code}>
          <p className="outcome-title">✗ {t('pos.declined')}</p>
          <p>{errorText(t, outcome.code)}</p>
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
