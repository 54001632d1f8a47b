import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { QrPayment, QrPreview } from '@yunpay/sdk';
import { amountPlaceholder, parseMoney } from '../shared/money.js';
import { Alert, Field, PinField } from '../shared/ui.js';
import { errorText } from './client.js';
import { useText, useWallet } from './context.js';
import type { MessageKey } from './messages.js';
import { OutcomeAlert, failureOutcome, useIntentKey, type Outcome } from './outcome.js';
import { decodeQrFile, decodeQrFrame } from './qr-decode.js';

/** How often a camera frame is decoded. */
const frameIntervalMs = 250;
/** The longest merchant QR payload (EMVCo: 512 characters). */
const qrTextLengthMax = 512;

function Camera(props: { onText: (text: string) => void; onUnavailable: () => void }) {
  const { t } = useText();
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const start = async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch {
        props.onUnavailable();
        return;
      }
      if (stopped || video.current === null) return;
      video.current.srcObject = stream;
      await video.current.play().catch(() => undefined);
      timer = setInterval(() => {
        if (video.current === null) return;
        void decodeQrFrame(video.current).then((text) => {
          if (text !== null && !stopped) {
            stopped = true;
            props.onText(text);
          }
        });
      }, frameIntervalMs);
    };
    void start();
    return () => {
      stopped = true;
      clearInterval(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
    // Runs once per mount: the camera starts when shown and stops when hidden.
  }, []);
  return <video ref={video} className="camera" muted playsInline aria-label={t('scan.cameraView')} />;
}

export function ScanScreen() {
  const { t, money } = useText();
  const { client, moneyMoved } = useWallet();
  const [camera, setCamera] = useState(false);
  const [pasted, setPasted] = useState('');
  const [data, setData] = useState<string | null>(null);
  const [preview, setPreview] = useState<QrPreview | null>(null);
  const [amount, setAmount] = useState('');
  const [pin, setPin] = useState('');
  const intentKey = useIntentKey();
  const [paid, setPaid] = useState<{ payment: QrPayment; merchant: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A refused payment's answer (with a link to its fix: pin_not_set → Settings).
  const [payError, setPayError] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);

  const resolve = async (text: string) => {
    const trimmed = text.trim();
    setCamera(false);
    setError(null);
    setPaid(null);
    if (trimmed === '' || trimmed.length > qrTextLengthMax) return setError(t('error.qr_invalid'));
    setBusy(true);
    try {
      setPreview(await client.qr.resolve(trimmed));
      setData(trimmed);
      setPayError(null);
    } catch (caught) {
      setPreview(null);
      setError(errorText(caught, t));
    } finally {
      setBusy(false);
    }
  };

  const onFile = async (file: File | undefined) => {
    if (file === undefined) return;
    setError(null);
    const text = await decodeQrFile(file).catch(() => null);
    if (text === null) return setError(t('scan.noCode'));
    await resolve(text);
  };

  const pay = async (event: FormEvent) => {
    event.preventDefault();
    if (preview === null || data === null) return;
    let staticAmount: number | undefined;
    if (!preview.dynamic) {
      const parsed = parseMoney(amount, preview.currency);
      if (!parsed.ok) return setPayError({ tone: 'error', text: t(`error.${parsed.code}` as MessageKey), code: null });
      staticAmount = parsed.amountMinor;
    }
    setBusy(true);
    setPayError(null);
    try {
      const result = await client.qr.pay(
        { data, pin, ...(staticAmount === undefined ? {} : { amount: staticAmount }) },
        // One key per intent (this code, this amount): another amount after a refusal is a new request.
        { idempotencyKey: intentKey.keyFor(JSON.stringify({ data, amount: staticAmount ?? null })) },
      );
      intentKey.answered();
      setPaid({ payment: result, merchant: preview.merchant.name });
      setPreview(null);
      setData(null);
      moneyMoved();
    } catch (caught) {
      intentKey.answered(caught);
      setPayError(failureOutcome(caught, t));
    } finally {
      setPin('');
      setBusy(false);
    }
  };

  const reset = () => {
    setPaid(null);
    setPreview(null);
    setData(null);
    setPasted('');
    setAmount('');
    setError(null);
    setPayError(null);
  };

  if (paid !== null) {
    return (
      <>
        <h1>{t('scan.title')}</h1>
        <section className="card stack">
          <Alert tone="success">
            {t(paid.payment.livemode === false ? 'scan.paidTest' : 'scan.paid', {
              amount: money(paid.payment.amount, paid.payment.currency),
              merchant: paid.merchant,
            })}
          </Alert>
          <button type="button" className="primary" onClick={reset}>
            {t('scan.another')}
          </button>
        </section>
      </>
    );
  }

  return (
    <>
      <h1>{t('scan.title')}</h1>
      {preview === null ? (
        <section className="card stack">
          {camera ? (
            <>
              <Camera
                onText={(text) => void resolve(text)}
                onUnavailable={() => {
                  setCamera(false);
                  setError(t('scan.cameraUnavailable'));
                }}
              />
              <button type="button" onClick={() => setCamera(false)}>
                {t('scan.stopCamera')}
              </button>
            </>
          ) : (
            <button type="button" className="primary" onClick={() => setCamera(true)}>
              {t('scan.camera')}
            </button>
          )}
          <div className="field">
            <label htmlFor="qr-upload">{t('scan.upload')}</label>
            <input
              id="qr-upload"
              name="qr-upload"
              type="file"
              accept="image/*"
              onChange={(e) => void onFile(e.target.files?.[0])}
            />
          </div>
          <form
            className="stack"
            onSubmit={(event) => {
              event.preventDefault();
              void resolve(pasted);
            }}
          >
            <Field
              label={t('scan.paste')}
              name="qr-text"
              autoComplete="off"
              maxLength={qrTextLengthMax}
              value={pasted}
              onChange={(e) => setPasted(e.target.value)}
            />
            <button type="submit" disabled={busy}>
              {t('scan.check')}
            </button>
          </form>
          {error === null ? null : <Alert>{error}</Alert>}
        </section>
      ) : (
        <form className="card stack preview" onSubmit={(event) => void pay(event)}>
          <dl>
            <dt>{t('scan.merchant')}</dt>
            <dd className="preview-merchant">{preview.merchant.name}</dd>
            {preview.amount === null ? null : (
              <>
                <dt>{t('common.amount')}</dt>
                <dd className="preview-amount">{money(preview.amount, preview.currency)}</dd>
              </>
            )}
          </dl>
          {preview.livemode === false ? <Alert tone="info">{t('scan.testPreview')}</Alert> : null}
          {preview.dynamic ? null : (
            <Field
              label={t('scan.staticAmount')}
              name="amount"
              inputMode="decimal"
              placeholder={amountPlaceholder(preview.currency)}
              required
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          )}
          <PinField label={t('common.pin')} value={pin} onChange={setPin} />
          {payError === null ? null : <OutcomeAlert outcome={payError} />}
          <button type="submit" className="primary" disabled={busy}>
            {t('scan.pay', { amount: preview.amount === null ? '' : money(preview.amount, preview.currency) })}
          </button>
          <button type="button" onClick={reset}>
            {t('common.cancel')}
          </button>
        </form>
      )}
    </>
  );
}
