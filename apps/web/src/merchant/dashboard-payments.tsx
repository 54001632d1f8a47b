import {
  toDecimalString,
  tryParseAmount,
  type Charge,
  type CreatedFilter,
  type Event,
  type PaymentIntent,
  type PaymentIntentStatus,
  type Refund,
} from '@yunpay/sdk';
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { useI18n, type MessageKey } from './i18n.js';
import { formatMoney, formatTime } from './keypad.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorCode, errorMessage, merchantClient } from './api.js';

const pageSize = 100;
/** Loaded payments kept in the page at most (then the filters must narrow the date range). */
const loadedMax = 2_000;

const statuses: PaymentIntentStatus[] = [
  'succeeded',
  'requires_action',
  'requires_payment_method',
  'requires_confirmation',
  'requires_capture',
  'processing',
  'canceled',
];

interface Filters {
  search: string;
  status: string;
  from: string;
  to: string;
  min: string;
  max: string;
}

const emptyFilters: Filters = { search: '', status: '', from: '', to: '', min: '', max: '' };

function createdFilter(filters: Filters): CreatedFilter | undefined {
  const range: { gte?: number; lte?: number } = {};
  if (filters.from !== '') range.gte = Math.floor(Date.parse(`${filters.from}T00:00:00Z`) / 1000);
  if (filters.to !== '') range.lte = Math.floor(Date.parse(`${filters.to}T23:59:59Z`) / 1000);
  return range.gte === undefined && range.lte === undefined ? undefined : range;
}

/** The filters /v1 cannot apply (status, amount, text), applied to the loaded pages. */
function matches(intent: PaymentIntent, filters: Filters, currency: string): boolean {
  if (filters.status !== '' && intent.status !== filters.status) return false;
  const search = filters.search.trim().toLowerCase();
  if (search !== '') {
    const customer = typeof intent.customer === 'string' ? intent.customer : (intent.customer?.id ?? '');
    const haystack = [intent.id, intent.description ?? '', customer].join(' ').toLowerCase();
    if (!haystack.includes(search)) return false;
  }
  const min = filters.min === '' ? null : tryParseAmount(filters.min, currency);
  const max = filters.max === '' ? null : tryParseAmount(filters.max, currency);
  if (min?.ok === true && intent.amount < min.amountMinor) return false;
  if (max?.ok === true && intent.amount > max.amountMinor) return false;
  return true;
}

export function PaymentsPage({ session }: { session: MerchantSessionInfo }) {
  const { t, locale } = useI18n();
  const [draft, setDraft] = useState<Filters>(emptyFilters);
  const [filters, setFilters] = useState<Filters>(emptyFilters);
  const [loaded, setLoaded] = useState<PaymentIntent[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [busy, setBusy] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const currency = session.account.default_currency;

  const load = useCallback(async (startingAfter: string | undefined, created: CreatedFilter | undefined) => {
    setBusy(true);
    setError(null);
    try {
      const page = await merchantClient().paymentIntents.list({
        limit: pageSize,
        ...(created === undefined ? {} : { created }),
        ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
      });
      setLoaded((current) =>
        (startingAfter === undefined ? page.data : [...current, ...page.data]).slice(0, loadedMax),
      );
      setHasMore(page.has_more);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }, []);

  // The date range is applied by the server: a change reloads from the first page.
  const created = useMemo(() => createdFilter(filters), [filters]);
  useEffect(() => {
    void load(undefined, created);
  }, [load, created]);

  const shown = loaded.filter((intent) => matches(intent, filters, currency));

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters(draft);
  }

  const field = (name: keyof Filters, label: MessageKey, type = 'text') => (
    <div className="field">
      <label htmlFor={`filter-${name}`}>{t(label)}</label>
      <input
        id={`filter-${name}`}
        type={type}
        value={draft[name]}
        inputMode={name === 'min' || name === 'max' ? 'decimal' : undefined}
        onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
      />
    </div>
  );

  return (
    <section aria-labelledby="payments-title">
      <h2 id="payments-title">{t('payments.title')}</h2>
      <form className="filters" onSubmit={apply} role="search">
        {field('search', 'payments.search', 'search')}
        <div className="field">
          <label htmlFor="filter-status">{t('payments.status')}</label>
          <select
            id="filter-status"
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">{t('payments.any')}</option>
            {statuses.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        {field('from', 'payments.from', 'date')}
        {field('to', 'payments.to', 'date')}
        {field('min', 'payments.min')}
        {field('max', 'payments.max')}
        <button type="submit" className="button primary">
          {t('payments.apply')}
        </button>
      </form>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="hint" role="status">
        {busy ? t('loading') : t('payments.shown', { shown: shown.length, loaded: loaded.length })}
        {!busy && hasMore ? ` ${t('payments.more')}` : ''}
      </p>
      {shown.length === 0 && !busy ? (
        <p>{t('payments.none')}</p>
      ) : (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('payments.id')}</th>
              <th scope="col">{t('payments.amount')}</th>
              <th scope="col">{t('payments.status')}</th>
              <th scope="col">{t('payments.description')}</th>
              <th scope="col">{t('payments.created')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((intent) => (
              <tr key={intent.id}>
                <td>
                  <a href={`#/payments/${intent.id}`} className="mono">
                    {intent.id}
                  </a>
                </td>
                <td className="number">{formatMoney(intent.amount, intent.currency, locale)}</td>
                <td>
                  <span className={`status status-${intent.status}`}>{intent.status}</span>
                </td>
                <td>{intent.description ?? ''}</td>
                <td>{formatTime(intent.created, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && loaded.length < loadedMax && (
        <button
          type="button"
          className="button secondary"
          disabled={busy}
          onClick={() => void load(loaded[loaded.length - 1]?.id, created)}
        >
          {t('payments.loadMore')}
        </button>
      )}
    </section>
  );
}

interface TimelineEntry {
  at: number;
  text: string;
  key: string;
}

interface Detail {
  intent: PaymentIntent;
  charge: Charge | null;
  refunds: Refund[];
  events: Event[];
}

async function loadDetail(id: string): Promise<Detail> {
  const client = merchantClient();
  const intent = await client.paymentIntents.retrieve(id, { expand: ['latest_charge'] });
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const [refunds, events] = await Promise.all([
    client.refunds.list({ payment_intent: id, limit: 100 }),
    // /v1/events has no object filter: the latest 100 events, kept when they concern this payment.
    client.events.list({ limit: 100 }),
  ]);
  const ids = new Set([intent.id, ...(charge === null ? [] : [charge.id]), ...refunds.data.map((refund) => refund.id)]);
  return {
    intent,
    charge,
    refunds: refunds.data,
    events: events.data.filter((event) => ids.has(String(event.data.object.id))),
  };
}

export function PaymentDetail({ id }: { id: string }) {
  const { t, locale } = useI18n();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refundText, setRefundText] = useState('');
  const [refundNotice, setRefundNotice] = useState<string | null>(null);
  const [refundError, setRefundError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    try {
      const loaded = await loadDetail(id);
      setDetail(loaded);
      const remaining = (loaded.charge?.amount_captured ?? 0) - (loaded.charge?.amount_refunded ?? 0);
      setRefundText(remaining > 0 ? toDecimalString(remaining, loaded.intent.currency) : '');
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, [id]);
  useEffect(() => {
    void reload();
  }, [reload]);

  if (error !== null) {
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  }
  if (detail === null) return <p role="status">{t('loading')}</p>;
  const { intent, charge, refunds, events } = detail;
  const money = (amount: number) => formatMoney(amount, intent.currency, locale);
  const remaining = (charge?.amount_captured ?? 0) - (charge?.amount_refunded ?? 0);

  const entries: TimelineEntry[] = [{ at: intent.created, text: t('tl.created'), key: 'created' }];
  if (charge !== null) {
    entries.push({
      at: charge.created,
      text: `${t('tl.charge', { id: charge.id })} — ${charge.status}`,
      key: charge.id,
    });
  }
  for (const refund of refunds) {
    entries.push({
      at: refund.created,
      text: `${t('tl.refund', { id: refund.id, amount: money(refund.amount) })} — ${refund.status}`,
      key: refund.id,
    });
  }
  for (const event of events)
    entries.push({ at: event.created, text: t('tl.event', { type: event.type }), key: event.id });
  if (intent.status === 'succeeded' || intent.status === 'canceled') {
    const last = Math.max(...entries.map((entry) => entry.at));
    if (!events.some((event) => event.type.startsWith('payment_intent.'))) {
      entries.push({ at: intent.canceled_at ?? last, text: t(`tl.${intent.status}`), key: 'final' });
    }
  }
  entries.sort((a, b) => a.at - b.at);

  async function refund(event: FormEvent) {
    event.preventDefault();
    setRefundError(null);
    setRefundNotice(null);
    const parsed = tryParseAmount(refundText, intent.currency);
    if (!parsed.ok) {
      setRefundError(parsed.message);
      return;
    }
    setBusy(true);
    try {
      const created = await merchantClient().refunds.create({ payment_intent: intent.id, amount: parsed.amountMinor });
      setRefundNotice(t('detail.refundDone', { id: created.id }));
      await reload();
    } catch (failure) {
      setRefundError(`${errorCode(failure)}: ${errorMessage(failure)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="detail-title">
      <p>
        <a href="#/payments">← {t('detail.back')}</a>
      </p>
      <h2 id="detail-title">{t('detail.title', { id: intent.id })}</h2>
      <dl className="facts">
        <dt>{t('payments.amount')}</dt>
        <dd>{money(intent.amount)}</dd>
        <dt>{t('payments.status')}</dt>
        <dd>
          <span className={`status status-${intent.status}`}>{intent.status}</span>
        </dd>
        <dt>{t('detail.refunded')}</dt>
        <dd data-testid="refunded">{money(charge?.amount_refunded ?? 0)}</dd>
        <dt>{t('payments.description')}</dt>
        <dd>{intent.description ?? '—'}</dd>
        <dt>{t('payments.created')}</dt>
        <dd>{formatTime(intent.created, locale)}</dd>
      </dl>

      <h3>{t('detail.timeline')}</h3>
      <ol className="timeline">
        {entries.map((entry) => (
          <li key={entry.key}>
            <time dateTime={new Date(entry.at * 1000).toISOString()}>{formatTime(entry.at, locale)}</time>
            <span>{entry.text}</span>
          </li>
        ))}
      </ol>

      {refunds.length > 0 && (
        <>
          <h3>{t('detail.refunds')}</h3>
          <ul className="refunds">
            {refunds.map((item) => (
              <li key={item.id} className="mono">
                {item.id} — {money(item.amount)} — {item.status}
              </li>
            ))}
          </ul>
        </>
      )}

      {charge !== null && remaining > 0 && (
        <form className="card refund-form" onSubmit={(event) => void refund(event)}>
          <h3>{t('detail.refund')}</h3>
          <label htmlFor="refund-amount">{t('detail.refundAmount')}</label>
          <input
            id="refund-amount"
            inputMode="decimal"
            value={refundText}
            onChange={(event) => setRefundText(event.target.value)}
            aria-describedby="refund-hint"
          />
          <p id="refund-hint" className="hint">
            {t('detail.refundHint', { amount: money(remaining) })}
          </p>
          <button type="submit" className="button danger" disabled={busy}>
            {t('detail.refund')}
          </button>
        </form>
      )}
      <div role="status" aria-live="polite">
        {refundNotice !== null && <p className="success">{refundNotice}</p>}
      </div>
      {refundError !== null && (
        <p role="alert" className="error">
          {refundError}
        </p>
      )}
    </section>
  );
}
