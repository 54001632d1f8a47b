import {
  toDecimalString,
  tryParseAmount,
  type BalanceTransaction,
  type Charge,
  type CreatedFilter,
  type Event,
  type PaymentIntent,
  type PaymentIntentStatus,
  type Refund,
} from '@yunpay/sdk';
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { saveTextAsFile } from '../shared/download.js';
import { paymentsCsv, type PaymentCsvRow } from './dashboard-csv.js';
import { formatDateTime } from './dashboard-format.js';
import { useI18n, type MessageKey, type Translate } from './i18n.js';
import { formatMoney } from './keypad.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorCode, errorMessage, merchantClient } from './api.js';

const pageSize = 100;
/** Loaded payments kept in the page at most (then the filters must narrow the date range). */
const loadedMax = 2_000;
/** Rows of a CSV export at most, and pages of /v1/payment_intents read to find them. */
const exportRowsMax = 1_000;
const exportPagesMax = 20;
/**
 * What each payment is read with: the charge says how much was refunded ("Partially refunded") and
 * how it was paid; its balance transaction has the fee and the net.
 */
const listExpand = ['data.latest_charge.balance_transaction'];
const intentExpand = ['latest_charge.balance_transaction'];

/**
 * What a payment is, in the words of a merchant (Stripe's dashboard too): the API's statuses grouped
 * and refunds taken into account. The raw status stays in the API; people never see it.
 */
export type DisplayStatus =
  | 'succeeded'
  | 'partially_refunded'
  | 'refunded'
  | 'incomplete'
  | 'requires_action'
  | 'requires_capture'
  | 'processing'
  | 'canceled';

const displayStatuses: DisplayStatus[] = [
  'succeeded',
  'partially_refunded',
  'refunded',
  'incomplete',
  'requires_action',
  'requires_capture',
  'processing',
  'canceled',
];

const statusOfIntent: Record<PaymentIntentStatus, DisplayStatus> = {
  succeeded: 'succeeded',
  requires_payment_method: 'incomplete',
  requires_confirmation: 'incomplete',
  requires_action: 'requires_action',
  requires_capture: 'requires_capture',
  processing: 'processing',
  canceled: 'canceled',
};

function latestCharge(intent: PaymentIntent): Charge | null {
  return typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
}

export function displayStatus(intent: PaymentIntent, charge: Charge | null = latestCharge(intent)): DisplayStatus {
  if (intent.status === 'succeeded' && charge !== null && charge.amount_refunded > 0) {
    return charge.amount_refunded >= charge.amount_captured ? 'refunded' : 'partially_refunded';
  }
  return statusOfIntent[intent.status];
}

/** The charge's balance transaction (fee and net), when the charge has one and it was expanded. */
export function balanceTransactionOf(charge: Charge | null): BalanceTransaction | null {
  const entry = charge?.balance_transaction;
  return entry !== null && typeof entry === 'object' ? entry : null;
}

/** How the payment was paid, in words: "Yunpay wallet", "Visa •••• 4242"; '' before any charge. */
export function paymentMethodLabel(charge: Charge | null, t: Translate): string {
  const details = charge?.payment_method_details;
  if (details === null || details === undefined) return '';
  if (details.type === 'wallet') return t('method.wallet');
  if (details.type === 'card') {
    const card = (details.card ?? {}) as { brand?: unknown; last4?: unknown };
    const brand = typeof card.brand === 'string' && card.brand !== 'unknown' ? card.brand : '';
    const named = brand === '' ? t('method.card') : brand.charAt(0).toUpperCase() + brand.slice(1);
    return typeof card.last4 === 'string' ? `${named} •••• ${card.last4}` : named;
  }
  return typeof details.type === 'string' ? details.type : '';
}

function StatusBadge({ status }: { status: DisplayStatus }) {
  const { t } = useI18n();
  return <span className={`status status-${status}`}>{t(`status.${status}`)}</span>;
}

/** A charge's or refund's status (succeeded, pending, failed, canceled …) in words. */
function objectStatus(status: string, t: Translate): string {
  const known: Record<string, MessageKey> = {
    succeeded: 'status.succeeded',
    pending: 'status.pending',
    failed: 'status.failed',
    canceled: 'status.canceled',
    requires_action: 'status.requires_action',
  };
  const key = known[status];
  return key === undefined ? status : t(key);
}

/**
 * The POS marks its sales with metadata (yunpay_pos: code | qr) and no English description, so each
 * dashboard language names them. Sales from before that carry the POS's English text: named the same way.
 */
const posEntryDescriptions: Record<string, MessageKey> = { code: 'desc.pos', qr: 'desc.posQr' };
const legacyPosDescriptions: Record<string, MessageKey> = { 'POS sale': 'desc.pos', 'POS sale (QR)': 'desc.posQr' };

export function describePayment(intent: PaymentIntent, t: Translate): string {
  const description = intent.description ?? '';
  const entry = intent.metadata.yunpay_pos;
  const key =
    description === '' && entry !== undefined ? posEntryDescriptions[entry] : legacyPosDescriptions[description];
  return key === undefined ? description : t(key);
}

/**
 * Live updates: the merchant API has no push channel, so the list asks /v1/events for what happened
 * since its last look, every few seconds while the page is visible, for at most half an hour (then a
 * button resumes it).
 */
const liveIntervalMs = 4_000;
const liveDurationMsMax = 30 * 60 * 1_000;
/** Payments re-read per poll at most (the rest wait for the next one). */
const liveIntentsPerPollMax = 20;
/** Event ids remembered to skip repeats (events of the same second come back with created[gte]). */
const liveSeenEventsMax = 500;

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
function matches(intent: PaymentIntent, filters: Filters, currency: string, t: Translate): boolean {
  if (filters.status !== '' && displayStatus(intent) !== filters.status) return false;
  const search = filters.search.trim().toLowerCase();
  if (search !== '') {
    const customer = typeof intent.customer === 'string' ? intent.customer : (intent.customer?.id ?? '');
    const haystack = [intent.id, intent.description ?? '', describePayment(intent, t), customer]
      .join(' ')
      .toLowerCase();
    if (!haystack.includes(search)) return false;
  }
  const min = filters.min === '' ? null : tryParseAmount(filters.min, currency);
  const max = filters.max === '' ? null : tryParseAmount(filters.max, currency);
  if (min?.ok === true && intent.amount < min.amountMinor) return false;
  if (max?.ok === true && intent.amount > max.amountMinor) return false;
  return true;
}

function paymentIntentOf(event: Event): string | null {
  const object = event.data.object;
  if (object.object === 'payment_intent' && typeof object.id === 'string') return object.id;
  return typeof object.payment_intent === 'string' ? object.payment_intent : null;
}

function inRange(intent: PaymentIntent, created: CreatedFilter | undefined): boolean {
  if (created === undefined || typeof created === 'number') return created === undefined || intent.created === created;
  return (
    (created.gte === undefined || intent.created >= created.gte) &&
    (created.lte === undefined || intent.created <= created.lte)
  );
}

function useLivePayments({
  created,
  setLoaded,
}: {
  created: CreatedFilter | undefined;
  setLoaded: (update: (current: PaymentIntent[]) => PaymentIntent[]) => void;
}): { running: boolean; resume: () => void } {
  const [startedMs, setStartedMs] = useState<number | null>(() => Date.now());
  const seen = useRef(new Set<string>());

  useEffect(() => {
    if (startedMs === null) return;
    let stopped = false;
    const client = merchantClient();
    const remember = (id: string) => {
      seen.current.add(id);
      // Oldest first out: a Set iterates in insertion order.
      if (seen.current.size > liveSeenEventsMax) seen.current.delete(seen.current.values().next().value ?? id);
    };
    const merge = (intent: PaymentIntent) =>
      setLoaded((current) => {
        const index = current.findIndex((entry) => entry.id === intent.id);
        if (index !== -1) return current.map((entry) => (entry.id === intent.id ? intent : entry));
        if (!inRange(intent, created)) return current;
        return [intent, ...current].sort((a, b) => b.created - a.created).slice(0, loadedMax);
      });
    const follow = async () => {
      // The server's clock, not this browser's: start from the newest event there is.
      let since = 0;
      try {
        const latest = await client.events.list({ limit: 1 });
        const newest = latest.data[0];
        if (newest !== undefined) {
          since = newest.created;
          remember(newest.id);
        }
      } catch {
        // The next poll starts from the beginning of the range it is given.
      }
      while (!stopped) {
        await new Promise((resolve) => window.setTimeout(resolve, liveIntervalMs));
        if (stopped) return;
        if (Date.now() - startedMs > liveDurationMsMax) {
          setStartedMs(null);
          return;
        }
        if (document.visibilityState !== 'visible') continue;
        try {
          const page = await client.events.list({ limit: 100, created: { gte: since } });
          const ids = new Set<string>();
          for (const event of page.data) {
            if (seen.current.has(event.id)) continue;
            remember(event.id);
            since = Math.max(since, event.created);
            const id = paymentIntentOf(event);
            if (id !== null) ids.add(id);
          }
          for (const id of [...ids].slice(0, liveIntentsPerPollMax)) {
            if (stopped) return;
            merge(await client.paymentIntents.retrieve(id, { expand: intentExpand }));
          }
        } catch {
          // A failed poll is retried by the next one; the list keeps what it has.
        }
      }
    };
    void follow();
    return () => {
      stopped = true;
    };
  }, [startedMs, created, setLoaded]);

  return { running: startedMs !== null, resume: () => setStartedMs(Date.now()) };
}

/**
 * Payments as a table: the list's and the overview's (`detailed`: with how each was paid, its fee
 * and its net). A test payment carries the Test badge next to its status.
 */
export function PaymentsTable({
  intents,
  detailed,
  caption,
}: {
  intents: readonly PaymentIntent[];
  detailed: boolean;
  caption?: string;
}) {
  const { t, locale } = useI18n();
  return (
    <div className="table-scroll">
      <table className="data">
        {caption !== undefined && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            <th scope="col">{t('payments.id')}</th>
            <th scope="col" className="number">
              {t('payments.amount')}
            </th>
            <th scope="col">{t('payments.status')}</th>
            {detailed && <th scope="col">{t('payments.method')}</th>}
            {detailed && (
              <th scope="col" className="number">
                {t('payments.fee')}
              </th>
            )}
            {detailed && (
              <th scope="col" className="number">
                {t('payments.net')}
              </th>
            )}
            <th scope="col">{t('payments.description')}</th>
            <th scope="col">{t('payments.created')}</th>
          </tr>
        </thead>
        <tbody>
          {intents.map((intent) => {
            const charge = latestCharge(intent);
            const entry = balanceTransactionOf(charge);
            return (
              <tr key={intent.id}>
                <td>
                  <a href={`#/payments/${intent.id}`} className="mono">
                    {intent.id}
                  </a>
                </td>
                <td className="number">{formatMoney(intent.amount, intent.currency, locale)}</td>
                <td>
                  <StatusBadge status={displayStatus(intent, charge)} />
                  {!intent.livemode && <span className="badge badge-test">{t('pos.testBadge')}</span>}
                </td>
                {detailed && <td data-testid="payment-method">{paymentMethodLabel(charge, t) || '—'}</td>}
                {detailed && (
                  <td className="number" data-testid="payment-fee">
                    {entry === null ? '—' : formatMoney(entry.fee, entry.currency, locale)}
                  </td>
                )}
                {detailed && (
                  <td className="number" data-testid="payment-net">
                    {entry === null ? '—' : formatMoney(entry.net, entry.currency, locale)}
                  </td>
                )}
                <td>{describePayment(intent, t)}</td>
                <td>{formatDateTime(intent.created, locale)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A payment as a row of the CSV file, in the dashboard's words (status, description, method). */
function csvRow(intent: PaymentIntent, t: Translate): PaymentCsvRow {
  const charge = latestCharge(intent);
  const entry = balanceTransactionOf(charge);
  return {
    id: intent.id,
    createdS: intent.created,
    amountMinor: intent.amount,
    currency: intent.currency,
    status: t(`status.${displayStatus(intent, charge)}`),
    description: describePayment(intent, t),
    livemode: intent.livemode,
    paymentMethod: paymentMethodLabel(charge, t),
    feeMinor: entry?.fee ?? null,
    netMinor: entry?.net ?? null,
    refundedMinor: charge?.amount_refunded ?? 0,
  };
}

/**
 * Every payment the filters match (the server's date range, then status, amount and text here),
 * newest first, read page by page: at most exportRowsMax rows from at most exportPagesMax pages.
 */
async function paymentsToExport(options: {
  filters: Filters;
  created: CreatedFilter | undefined;
  currency: string;
  t: Translate;
}): Promise<{ rows: PaymentIntent[]; complete: boolean }> {
  const client = merchantClient();
  const rows: PaymentIntent[] = [];
  let startingAfter: string | undefined;
  for (let pageIndex = 0; pageIndex < exportPagesMax; pageIndex += 1) {
    const page = await client.paymentIntents.list({
      limit: pageSize,
      expand: listExpand,
      ...(options.created === undefined ? {} : { created: options.created }),
      ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
    });
    for (const intent of page.data) {
      if (!matches(intent, options.filters, options.currency, options.t)) continue;
      if (rows.length === exportRowsMax) return { rows, complete: false };
      rows.push(intent);
    }
    const last = page.data[page.data.length - 1];
    if (!page.has_more || last === undefined) return { rows, complete: true };
    startingAfter = last.id;
  }
  return { rows, complete: false };
}

export function PaymentsPage({ session }: { session: MerchantSessionInfo }) {
  const { t } = useI18n();
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
        expand: listExpand,
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

  const live = useLivePayments({ created, setLoaded });
  const shown = loaded.filter((intent) => matches(intent, filters, currency, t));
  const [exporting, setExporting] = useState(false);
  /** What the last export wrote (shown in the current language, so kept as facts, not text). */
  const [exported, setExported] = useState<{ count: number; complete: boolean } | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);

  // The filters applied (not the draft), read again from the server: the file has what they match.
  async function exportCsv() {
    setExporting(true);
    setExported(null);
    setExportError(null);
    try {
      const found = await paymentsToExport({ filters, created, currency, t });
      const today = new Date().toISOString().slice(0, 10);
      saveTextAsFile(
        paymentsCsv(found.rows.map((intent) => csvRow(intent, t))),
        `yunpay-payments-${today}.csv`,
        'text/csv',
      );
      setExported({ count: found.rows.length, complete: found.complete });
    } catch (failure) {
      setExportError(errorMessage(failure));
    } finally {
      setExporting(false);
    }
  }

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
            {displayStatuses.map((status) => (
              <option key={status} value={status}>
                {t(`status.${status}`)}
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
      <div className="toolbar">
        <button type="button" className="button secondary" disabled={exporting} onClick={() => void exportCsv()}>
          {exporting ? t('payments.csvBusy') : t('payments.csv')}
        </button>
        <span className="hint" role="status" aria-live="polite">
          {exported === null
            ? null
            : !exported.complete
              ? t('payments.csvPartial', { count: exported.count })
              : exported.count === 1
                ? t('payments.csvDoneOne')
                : t('payments.csvDone', { count: exported.count })}
        </span>
      </div>
      {exportError !== null && (
        <p role="alert" className="error">
          {exportError}
        </p>
      )}
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="hint" role="status">
        {busy ? t('loading') : t('payments.shown', { shown: shown.length, loaded: loaded.length })}
        {!busy && hasMore ? ` ${t('payments.more')}` : ''}
      </p>
      <p className="hint live">
        {live.running ? (
          t('payments.live')
        ) : (
          <>
            {t('payments.livePaused')}{' '}
            <button type="button" className="button secondary" onClick={live.resume}>
              {t('payments.liveResume')}
            </button>
          </>
        )}
      </p>
      {shown.length === 0 && !busy ? <p>{t('payments.none')}</p> : <PaymentsTable intents={shown} detailed />}
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
  const intent = await client.paymentIntents.retrieve(id, { expand: intentExpand });
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
  /** The amount (minor units) the merchant asked to refund, awaiting their confirmation. */
  const [refundPending, setRefundPending] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement | null>(null);
  useEffect(() => {
    if (refundPending !== null) confirmRef.current?.focus();
  }, [refundPending]);

  /** The merchant typed a refund amount: a reload must not replace it with the default. */
  const refundEdited = useRef(false);
  const reload = useCallback(async () => {
    try {
      const loaded = await loadDetail(id);
      setDetail(loaded);
      const remaining = (loaded.charge?.amount_captured ?? 0) - (loaded.charge?.amount_refunded ?? 0);
      if (!refundEdited.current) {
        setRefundText(remaining > 0 ? toDecimalString(remaining, loaded.intent.currency) : '');
      }
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, [id]);
  useEffect(() => {
    refundEdited.current = false;
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
  const balanceEntry = balanceTransactionOf(charge);

  const entries: TimelineEntry[] = [{ at: intent.created, text: t('tl.created'), key: 'created' }];
  if (charge !== null) {
    entries.push({
      at: charge.created,
      text: `${t('tl.charge', { id: charge.id })} — ${objectStatus(charge.status, t)}`,
      key: charge.id,
    });
  }
  for (const refund of refunds) {
    entries.push({
      at: refund.created,
      text: `${t('tl.refund', { id: refund.id, amount: money(refund.amount) })} — ${objectStatus(refund.status, t)}`,
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

  // A refund moves money back and cannot be undone: the amount first, then an explicit confirmation.
  function review(event: FormEvent) {
    event.preventDefault();
    setRefundError(null);
    setRefundNotice(null);
    const parsed = tryParseAmount(refundText, intent.currency);
    if (!parsed.ok) {
      setRefundError(parsed.message);
      return;
    }
    if (parsed.amountMinor <= 0 || parsed.amountMinor > remaining) {
      setRefundError(t('detail.refundHint', { amount: money(remaining) }));
      return;
    }
    setRefundPending(parsed.amountMinor);
  }

  async function refund(amountMinor: number) {
    setBusy(true);
    try {
      const created = await merchantClient().refunds.create({ payment_intent: intent.id, amount: amountMinor });
      setRefundPending(null);
      setRefundNotice(t('detail.refundDone', { id: created.id }));
      refundEdited.current = false;
      await reload();
    } catch (failure) {
      setRefundPending(null);
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
          <StatusBadge status={displayStatus(intent, charge)} />
          {!intent.livemode && <span className="badge badge-test">{t('pos.testBadge')}</span>}
        </dd>
        <dt>{t('payments.method')}</dt>
        <dd data-testid="payment-method">{paymentMethodLabel(charge, t) || '—'}</dd>
        <dt>{t('payments.fee')}</dt>
        <dd data-testid="payment-fee">{balanceEntry === null ? '—' : money(balanceEntry.fee)}</dd>
        <dt>{t('payments.net')}</dt>
        <dd data-testid="payment-net">{balanceEntry === null ? '—' : money(balanceEntry.net)}</dd>
        <dt>{t('detail.refunded')}</dt>
        <dd data-testid="refunded">{money(charge?.amount_refunded ?? 0)}</dd>
        <dt>{t('payments.description')}</dt>
        <dd>{describePayment(intent, t) || '—'}</dd>
        <dt>{t('payments.created')}</dt>
        <dd>{formatDateTime(intent.created, locale)}</dd>
      </dl>

      <h3>{t('detail.timeline')}</h3>
      <ol className="timeline">
        {entries.map((entry) => (
          <li key={entry.key}>
            <time dateTime={new Date(entry.at * 1000).toISOString()}>{formatDateTime(entry.at, locale)}</time>
            <span>{entry.text}</span>
          </li>
        ))}
      </ol>

      {refunds.length > 0 && (
        <>
          <h3>{t('detail.refunds')}</h3>
          <ul className="refunds">
            {refunds.map((item) => (
              <li key={item.id}>
                <span className="mono">{item.id}</span> — {money(item.amount)} — {objectStatus(item.status, t)}
              </li>
            ))}
          </ul>
        </>
      )}

      {charge !== null && remaining > 0 && (
        <form className="card refund-form" onSubmit={review}>
          <h3>{t('detail.refund')}</h3>
          <label htmlFor="refund-amount">{t('detail.refundAmount')}</label>
          <input
            id="refund-amount"
            inputMode="decimal"
            value={refundText}
            onChange={(event) => {
              refundEdited.current = true;
              setRefundText(event.target.value);
              setRefundPending(null);
            }}
            aria-describedby="refund-hint"
            disabled={refundPending !== null}
          />
          <p id="refund-hint" className="hint">
            {t('detail.refundHint', { amount: money(remaining) })}
          </p>
          {refundPending === null ? (
            <button type="submit" className="button danger" disabled={busy}>
              {t('detail.refund')}
            </button>
          ) : (
            <div
              role="alertdialog"
              aria-labelledby="refund-confirm-title"
              aria-describedby="refund-confirm-text"
              className="confirm"
            >
              <p id="refund-confirm-title" className="confirm-title">
                {t('detail.refundConfirmTitle', { amount: money(refundPending) })}
              </p>
              <p id="refund-confirm-text">{t('detail.refundConfirmText', { amount: money(refundPending) })}</p>
              <button
                type="button"
                ref={confirmRef}
                className="button danger"
                disabled={busy}
                onClick={() => void refund(refundPending)}
              >
                {t('detail.refundConfirm', { amount: money(refundPending) })}
              </button>
              <button type="button" className="button secondary" disabled={busy} onClick={() => setRefundPending(null)}>
                {t('detail.refundBack')}
              </button>
            </div>
          )}
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
