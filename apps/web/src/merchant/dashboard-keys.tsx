import type { MerchantApiKey } from '@yunpay/sdk';
import { useCallback, useEffect, useState } from 'react';
import { formatDateTime } from './dashboard-format.js';
import { useI18n, type MessageKey } from './i18n.js';
import { errorMessage, merchantSession } from './api.js';

type ApiKey = MerchantApiKey;

/**
 * How long the old secret key keeps working after a roll. As Stripe, a grace period by default: an
 * integration keeps working while it is updated. "Now" stays (a leaked key); the server caps the
 * grace at 7 days (merchantKeyRollGraceSMax) and a rolled key stops within 5 s on every node.
 */
const graceChoices: { seconds: number; label: MessageKey }[] = [
  { seconds: 0, label: 'keys.graceNow' },
  { seconds: 3_600, label: 'keys.grace1h' },
  { seconds: 86_400, label: 'keys.grace24h' },
  { seconds: 604_800, label: 'keys.grace7d' },
];
const graceDefaultS = 3_600;

const kindLabels: Record<ApiKey['type'], MessageKey> = {
  secret: 'keys.secret',
  publishable: 'keys.publishable',
  restricted: 'keys.restricted',
};

/** A copy-to-clipboard button that says when it worked. */
function CopyButton({ value, label }: { value: string; label: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      setState('failed');
    }
  }
  return (
    <button
      type="button"
      className="button secondary copy"
      aria-label={`${t('keys.copy')} ${label}`}
      onClick={() => void copy()}
    >
      {state === 'copied' ? t('keys.copied') : t('keys.copy')}
      <span className="visually-hidden" role="status">
        {state === 'copied' ? t('keys.copied') : ''}
      </span>
    </button>
  );
}

export function KeysPage() {
  const { t, locale } = useI18n();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [grace, setGrace] = useState(String(graceDefaultS));
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setKeys((await merchantSession().apiKeys.list()).data);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function roll() {
    if (!window.confirm(t('keys.confirm'))) return;
    setBusy(true);
    setError(null);
    try {
      const rolled = await merchantSession().apiKeys.roll({ expires_in_s: Number(grace) });
      setSecret(rolled.secret);
      await load();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">{t('keys.title')}</h2>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {keys === null ? (
        <p role="status">{t('loading')}</p>
      ) : (
        <>
          <div className="table-scroll">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">{t('keys.type')}</th>
                  <th scope="col">{t('keys.key')}</th>
                  <th scope="col">{t('payments.created')}</th>
                  <th scope="col">{t('keys.expires')}</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => (
                  <tr key={key.id}>
                    <td>{t(kindLabels[key.type])}</td>
                    <td>
                      <span className="mono">{key.value ?? key.redacted}</span>
                      {key.value !== null && <CopyButton value={key.value} label={t(kindLabels[key.type])} />}
                    </td>
                    <td>{formatDateTime(key.created, locale)}</td>
                    <td>{key.expires_at === null ? t('keys.never') : formatDateTime(key.expires_at, locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {keys.some((key) => key.value !== null) && <p className="hint">{t('keys.publishableHint')}</p>}
        </>
      )}
      <div className="card roll">
        <div className="field">
          <label htmlFor="roll-grace">{t('keys.grace')}</label>
          <select id="roll-grace" value={grace} onChange={(event) => setGrace(event.target.value)}>
            {graceChoices.map((choice) => (
              <option key={choice.seconds} value={String(choice.seconds)}>
                {t(choice.label)}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="button danger" disabled={busy} onClick={() => void roll()}>
          {t('keys.roll')}
        </button>
      </div>
      {secret !== null && (
        <div className="card reveal" role="region" aria-labelledby="new-secret-label">
          <h3 id="new-secret-label">{t('keys.newSecret')}</h3>
          <p className="warning">{t('keys.warning')}</p>
          <output className="mono secret" data-testid="new-secret">
            {secret}
          </output>
          <CopyButton value={secret} label={t('keys.newSecret')} />
        </div>
      )}
    </section>
  );
}
