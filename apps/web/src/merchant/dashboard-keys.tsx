import type { MerchantApiKey } from '@yunpay/sdk';
import { useCallback, useEffect, useState } from 'react';
import { useI18n } from './i18n.js';
import { formatTime } from './keypad.js';
import { errorMessage, merchantSession } from './api.js';

type ApiKey = MerchantApiKey;

export function KeysPage() {
  const { t, locale } = useI18n();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [grace, setGrace] = useState('0');
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
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
      setCopied(false);
      await load();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (secret === null) return;
    await navigator.clipboard.writeText(secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
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
                <td>{key.type}</td>
                <td className="mono">{key.redacted}</td>
                <td>{formatTime(key.created, locale)}</td>
                <td>{key.expires_at === null ? t('keys.never') : formatTime(key.expires_at, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="card roll">
        <div className="field">
          <label htmlFor="roll-grace">{t('keys.grace')}</label>
          <select id="roll-grace" value={grace} onChange={(event) => setGrace(event.target.value)}>
            <option value="0">{t('keys.graceNow')}</option>
            <option value="3600">{t('keys.grace1h')}</option>
            <option value="86400">{t('keys.grace24h')}</option>
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
          <button type="button" className="button secondary" onClick={() => void copy()}>
            {copied ? t('keys.copied') : t('keys.copy')}
          </button>
        </div>
      )}
    </section>
  );
}
