import { useRef, useState, type FormEvent } from 'react';
import { YunpayApiError, newIdempotencyKey, type MerchantSessionInfo } from '@yunpay/sdk';
import { useI18n, type MessageKey } from './i18n.js';
import { errorMessage, merchantSession } from './api.js';

/**
 * Merchant self sign-up (POST /merchant/v1/accounts): a new account in test mode, signed in at once.
 * The test keys are shown once, with copy buttons; the secret key is how the merchant signs in
 * next time. Live mode stays the operator's decision (activation).
 *
 * One Idempotency-Key per attempt: a retry of the same details (a lost answer) reuses it and gets
 * the same account; changed details are a new attempt with a new key.
 */
const categories = ['5812', '5814', '5411', '5999', '7299'] as const;
const countries = [
  { code: 'CN', currency: 'CNY' },
  { code: 'HK', currency: 'HKD' },
  { code: 'SG', currency: 'SGD' },
  { code: 'JP', currency: 'JPY' },
  { code: 'GB', currency: 'GBP' },
  { code: 'US', currency: 'USD' },
] as const;

interface Issued {
  secretKey: string;
  publishableKey: string;
}

export function SignUpForm({
  onSignedIn,
  onCancel,
}: {
  onSignedIn: (session: MerchantSessionInfo) => void;
  onCancel: () => void;
}) {
  const { t, locale } = useI18n();
  const [name, setName] = useState('');
  const [country, setCountry] = useState<(typeof countries)[number]['code']>('CN');
  const [mcc, setMcc] = useState<(typeof categories)[number]>('5812');
  const [city, setCity] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const attempt = useRef<{ key: string; details: string } | null>(null);
  const regionName = new Intl.DisplayNames([locale], { type: 'region' });

  async function submit(event: FormEvent) {
    event.preventDefault();
    const currency = countries.find((entry) => entry.code === country)?.currency ?? 'CNY';
    const body = {
      name: name.trim(),
      country,
      default_currency: currency,
      mcc,
      ...(city.trim() === '' ? {} : { city: city.trim() }),
    };
    const details = JSON.stringify(body);
    if (attempt.current?.details !== details) attempt.current = { key: newIdempotencyKey(), details };
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/merchant/v1/accounts', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'idempotency-key': attempt.current.key },
        body: details,
      });
      const answer = (await response.json()) as {
        secret_key?: string;
        publishable_key?: string;
        error?: { code?: string; message?: string };
      };
      if (!response.ok || answer.secret_key === undefined || answer.publishable_key === undefined) {
        throw new Error(answer.error?.message ?? `HTTP ${response.status}`);
      }
      setIssued({ secretKey: answer.secret_key, publishableKey: answer.publishable_key });
    } catch (failure) {
      const message = failure instanceof YunpayApiError ? failure.message : errorMessage(failure);
      setError(`${t('signup.failed')}: ${message}`);
    } finally {
      setBusy(false);
    }
  }

  async function proceed() {
    setBusy(true);
    try {
      // The sign-up set the session cookie; resume() fetches its CSRF token into the SDK.
      const session = await merchantSession().resume();
      if (session === null) throw new Error(t('signup.failed'));
      onSignedIn(session);
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  }

  if (issued !== null) {
    return (
      <main className="page narrow">
        <section className="card" aria-labelledby="signup-done-title">
          <h2 id="signup-done-title">{t('signup.done.title')}</h2>
          <p className="warning">{t('signup.done.warning')}</p>
          <KeyBox label={t('signup.done.secret')} value={issued.secretKey} id="signup-secret" />
          <KeyBox label={t('signup.done.publishable')} value={issued.publishableKey} id="signup-publishable" />
          <button type="button" className="button primary" disabled={busy} onClick={() => void proceed()}>
            {t('signup.done.continue')}
          </button>
          {error !== null && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
        </section>
      </main>
    );
  }

  return (
    <main className="page narrow">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="signup-title">
        <h2 id="signup-title">{t('signup.title')}</h2>
        <p className="hint">{t('signup.intro')}</p>
        <label htmlFor="signup-name">{t('signup.name')}</label>
        <input
          id="signup-name"
          required
          maxLength={100}
          autoComplete="organization"
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <label htmlFor="signup-country">{t('signup.country')}</label>
        <select
          id="signup-country"
          value={country}
          onChange={(event) => setCountry(event.target.value as (typeof countries)[number]['code'])}
        >
          {countries.map((entry) => (
            <option key={entry.code} value={entry.code}>
              {regionName.of(entry.code) ?? entry.code}
            </option>
          ))}
        </select>
        <label htmlFor="signup-category">{t('signup.category')}</label>
        <select
          id="signup-category"
          value={mcc}
          onChange={(event) => setMcc(event.target.value as (typeof categories)[number])}
        >
          {categories.map((code) => (
            <option key={code} value={code}>
              {t(`signup.category.${code}` as MessageKey)}
            </option>
          ))}
        </select>
        <label htmlFor="signup-city">{t('signup.city')}</label>
        <input
          id="signup-city"
          maxLength={50}
          autoComplete="address-level2"
          value={city}
          onChange={(event) => setCity(event.target.value)}
        />
        <button type="submit" className="button primary" disabled={busy}>
          {t('signup.submit')}
        </button>
        {error !== null && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="button" className="button link" onClick={onCancel}>
          {t('signup.back')}
        </button>
      </form>
    </main>
  );
}

function KeyBox({ label, value, id }: { label: string; value: string; id: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <>
      <p className="hint" id={`${id}-label`}>
        {label}
      </p>
      <div className="key-box">
        <code aria-labelledby={`${id}-label`} data-key={id}>
          {value}
        </code>
        <button
          type="button"
          className="button secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          }}
        >
          {copied ? t('signup.done.copied') : t('signup.done.copy')}
        </button>
      </div>
    </>
  );
}
