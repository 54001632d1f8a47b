import type { WebhookAttempt, WebhookEndpoint } from '@yunpay/sdk';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useI18n } from './i18n.js';
import { formatDateTime } from './dashboard-format.js';
import { errorCode, errorMessage, merchantClient } from './api.js';

/**
 * Hosts the server refuses unless YUNPAY_WEBHOOK_ALLOW_PRIVATE is set: names and literals that are
 * loopback, private or link-local whatever DNS says. A name resolving to such an address is only
 * known to the server, whose message then carries the same hint in English.
 */
function isPrivateHost(urlText: string): boolean {
  let host: string;
  try {
    host = new URL(urlText).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4 !== null) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  return host === '::' || host === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(host) || /^fe[89ab][0-9a-f]?:/.test(host);
}

interface CreateError {
  text: string;
  hint: boolean;
}

export function WebhooksPage() {
  const { t } = useI18n();
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [secret, setSecret] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [createError, setCreateError] = useState<CreateError | null>(null);

  const load = useCallback(async () => {
    try {
      setEndpoints((await merchantClient().webhookEndpoints.list({ limit: 100 })).data);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setCreateError(null);
    const target = url.trim();
    try {
      const created = await merchantClient().webhookEndpoints.create({
        url: target,
        enabled_events: events
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      });
      setSecret(typeof created.secret === 'string' ? created.secret : null);
      setUrl('');
      await load();
    } catch (failure) {
      // The stable code stays in the API; people get what it means and what to do.
      if (errorCode(failure) !== 'url_invalid') setCreateError({ text: errorMessage(failure), hint: false });
      else if (isPrivateHost(target)) setCreateError({ text: t('webhooks.urlPrivate'), hint: true });
      else setCreateError({ text: `${t('webhooks.urlRefused')} ${errorMessage(failure)}`, hint: false });
    }
  }

  async function remove(id: string) {
    setError(null);
    try {
      await merchantClient().webhookEndpoints.del(id);
      if (selected === id) setSelected(null);
      await load();
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }

  return (
    <section aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">{t('webhooks.title')}</h2>
      <form className="card filters" onSubmit={(event) => void create(event)}>
        <div className="field wide">
          <label htmlFor="webhook-url">{t('webhooks.url')}</label>
          <input id="webhook-url" type="url" required value={url} onChange={(event) => setUrl(event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="webhook-events">{t('webhooks.events')}</label>
          <input
            id="webhook-events"
            required
            value={events}
            onChange={(event) => setEvents(event.target.value)}
            aria-describedby="webhook-events-hint"
          />
        </div>
        <button type="submit" className="button primary">
          {t('webhooks.create')}
        </button>
        <p id="webhook-events-hint" className="hint wide">
          {t('webhooks.eventsHint')}
        </p>
      </form>
      {secret !== null && (
        <div className="card reveal">
          <p className="warning">{t('webhooks.secret')}</p>
          <output className="mono secret">{secret}</output>
        </div>
      )}
      {createError !== null && (
        <div role="alert" className="card error-panel">
          <p className="error">{createError.text}</p>
          {createError.hint && (
            <>
              <p>{t('webhooks.localTesting')}</p>
              <ul>
                <li>{t('webhooks.localTunnel')}</li>
                <li>
                  {t('webhooks.localAllowPrivate')} <code>YUNPAY_WEBHOOK_ALLOW_PRIVATE=true</code>
                </li>
              </ul>
            </>
          )}
        </div>
      )}
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {endpoints === null ? (
        <p role="status">{t('loading')}</p>
      ) : endpoints.length === 0 ? (
        <p>{t('webhooks.none')}</p>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">{t('webhooks.url')}</th>
                <th scope="col">{t('webhooks.events')}</th>
                <th scope="col">{t('webhooks.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('webhooks.attempts')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td className="mono">{endpoint.url}</td>
                  <td>{endpoint.enabled_events.join(', ')}</td>
                  <td>{endpoint.status}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="button secondary"
                      aria-pressed={selected === endpoint.id}
                      onClick={() => setSelected(endpoint.id)}
                    >
                      {t('webhooks.attempts')}
                    </button>
                    <button type="button" className="button danger" onClick={() => void remove(endpoint.id)}>
                      {t('webhooks.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected !== null && <Attempts key={selected} endpointId={selected} />}
    </section>
  );
}

function Attempts({ endpointId }: { endpointId: string }) {
  const { t, locale } = useI18n();
  const [attempts, setAttempts] = useState<WebhookAttempt[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setAttempts((await merchantClient().webhookEndpoints.listAttempts(endpointId, { limit: 50 })).data);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, [endpointId]);
  useEffect(() => {
    void load();
  }, [load]);

  async function resend(eventId: string) {
    setError(null);
    try {
      const delivery = await merchantClient().webhookEndpoints.resend(endpointId, { event: eventId });
      setNotice(t('webhooks.resent', { time: formatDateTime(delivery.next_attempt, locale) }));
    } catch (failure) {
      setError(`${errorCode(failure)}: ${errorMessage(failure)}`);
    }
  }

  return (
    <section className="card" aria-labelledby="attempts-title">
      <h3 id="attempts-title">{t('webhooks.attemptsOf', { id: endpointId })}</h3>
      <button type="button" className="button secondary" onClick={() => void load()}>
        {t('webhooks.refresh')}
      </button>
      <div role="status" aria-live="polite">
        {notice !== null && <p className="success">{notice}</p>}
      </div>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {attempts === null ? (
        <p>{t('loading')}</p>
      ) : attempts.length === 0 ? (
        <p>{t('webhooks.noAttempts')}</p>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">{t('payments.created')}</th>
                <th scope="col">{t('webhooks.event')}</th>
                <th scope="col">{t('webhooks.status')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('webhooks.resend')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {attempts.map((attempt) => (
                <tr key={attempt.id} className="attempt">
                  <td>{formatDateTime(attempt.created, locale)}</td>
                  <td className="mono">{attempt.event}</td>
                  <td>{attempt.status_code ?? attempt.error ?? '—'}</td>
                  <td>
                    <button type="button" className="button secondary" onClick={() => void resend(attempt.event)}>
                      {t('webhooks.resend')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
