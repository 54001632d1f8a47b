import { useState, type FormEvent } from 'react';
import type { HistoryFilter, WalletTransaction, WalletTransactionStatus, WalletTransactionType } from '@yunpay/sdk';
import { saveTextAsFile } from '../shared/download.js';
import { Alert, Field, SelectField } from '../shared/ui.js';
import { errorText } from './client.js';
import { useLoad, useText, useWallet } from './context.js';
import type { MessageKey } from './messages.js';

const types: WalletTransactionType[] = ['topup', 'p2p_sent', 'p2p_received', 'payment', 'refund'];
const statuses: WalletTransactionStatus[] = ['pending', 'succeeded', 'failed'];
const pageSize = 20;

function localDay(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Money leaving the wallet shows with a minus sign. */
function signed(row: WalletTransaction): 1 | -1 {
  return row.type === 'p2p_sent' || row.type === 'payment' ? -1 : 1;
}

/**
 * How a row's amount shows: only money that moved has a sign and a colour (+ green in, − out).
 * A failed one moved nothing (struck through, grey, no sign); a pending one has not moved yet (grey).
 */
function amountLook(row: WalletTransaction): { className: string; sign: string } {
  if (row.status === 'failed') return { className: 'amount-failed', sign: '' };
  if (row.status === 'pending') return { className: 'amount-pending', sign: '' };
  return signed(row) < 0 ? { className: 'amount-out', sign: '−' } : { className: 'amount-in', sign: '+' };
}

/** `2026-01-31` (a local date from <input type=date>) → unix seconds at the start or end of that day. */
function dayBound(value: string, end: boolean): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) return undefined;
  const start = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime();
  return Math.floor((end ? start + 86_400_000 - 1 : start) / 1000);
}

export function HistoryScreen() {
  const { t, money, dateTime } = useText();
  const { client, navigate, dataVersion } = useWallet();
  const [form, setForm] = useState({ type: '', status: '', from: '', to: '' });
  const [filter, setFilter] = useState<HistoryFilter>({});
  const [extra, setExtra] = useState<WalletTransaction[]>([]);
  const [more, setMore] = useState<boolean | null>(null);
  const [csvBusy, setCsvBusy] = useState(false);
  const [csvError, setCsvError] = useState<unknown>(null);
  const page = useLoad(
    async (signal) => {
      const list = await client.transactions.list({ ...filter, limit: pageSize }, { signal });
      setExtra([]);
      setMore(list.has_more);
      return list.data;
    },
    [client, filter, dataVersion],
  );

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next: HistoryFilter = {};
    if (form.type !== '') next.type = form.type as WalletTransactionType;
    if (form.status !== '') next.status = form.status as WalletTransactionStatus;
    const gte = dayBound(form.from, false);
    const lte = dayBound(form.to, true);
    if (gte !== undefined) next.created_gte = gte;
    if (lte !== undefined) next.created_lte = lte;
    setFilter(next);
  };

  /** The history with the filters in force (the applied ones, as the list shows), as a CSV file. */
  const downloadCsv = async () => {
    setCsvBusy(true);
    setCsvError(null);
    try {
      const csv = await client.transactions.csv(filter);
      saveTextAsFile(csv, `yunpay-history-${localDay(new Date())}.csv`, 'text/csv;charset=utf-8');
    } catch (caught) {
      setCsvError(caught);
    } finally {
      setCsvBusy(false);
    }
  };

  const rows = [...(page.value ?? []), ...extra];
  const loadMore = async () => {
    const last = rows[rows.length - 1];
    if (last === undefined) return;
    const list = await client.transactions.list({ ...filter, limit: pageSize, starting_after: last.id });
    setExtra((previous) => [...previous, ...list.data]);
    setMore(list.has_more);
  };

  return (
    <>
      <h1>{t('history.title')}</h1>
      <form className="card filters" onSubmit={apply}>
        <SelectField
          label={t('history.type')}
          name="type"
          value={form.type}
          onChange={(e) => setForm({ ...form, type: e.target.value })}
        >
          <option value="">{t('history.all')}</option>
          {types.map((type) => (
            <option key={type} value={type}>
              {t(`type.${type}` as MessageKey)}
            </option>
          ))}
        </SelectField>
        <SelectField
          label={t('history.status')}
          name="status"
          value={form.status}
          onChange={(e) => setForm({ ...form, status: e.target.value })}
        >
          <option value="">{t('history.all')}</option>
          {statuses.map((status) => (
            <option key={status} value={status}>
              {t(`status.${status}` as MessageKey)}
            </option>
          ))}
        </SelectField>
        <Field
          label={t('history.from')}
          name="from"
          type="date"
          value={form.from}
          onChange={(e) => setForm({ ...form, from: e.target.value })}
        />
        <Field
          label={t('history.to')}
          name="to"
          type="date"
          value={form.to}
          onChange={(e) => setForm({ ...form, to: e.target.value })}
        />
        <button type="submit">{t('history.apply')}</button>
      </form>
      <div className="history-tools">
        <button type="button" disabled={csvBusy} onClick={() => void downloadCsv()}>
          {t('history.csv')}
        </button>
        {csvBusy ? (
          <p className="muted" role="status">
            {t('history.csvBusy')}
          </p>
        ) : null}
      </div>
      {csvError === null ? null : <Alert>{errorText(csvError, t)}</Alert>}
      {page.error === null ? null : <Alert>{errorText(page.error, t)}</Alert>}
      {page.loading && page.value === null ? <p>{t('common.loading')}</p> : null}
      {page.value !== null && rows.length === 0 ? <p className="muted">{t('history.empty')}</p> : null}
      <ul className="history">
        {rows.map((row) => (
          <li key={row.id}>
            <a
              href={`/app/history/${row.id}`}
              className="history-row"
              data-type={row.type}
              onClick={(event) => {
                event.preventDefault();
                navigate(`/history/${row.id}`);
              }}
            >
              <span className="history-what">
                <span>
                  {t(`type.${row.type}` as MessageKey)}
                  {row.counterparty === null ? '' : ` · ${row.counterparty.name}`}
                </span>
                <span className="muted">
                  <span className="history-time">{dateTime(row.created)}</span> ·{' '}
                  <span className="history-status" data-status={row.status}>
                    {t(`status.${row.status}` as MessageKey)}
                  </span>
                </span>
              </span>
              <span className={amountLook(row).className} data-amount={row.status}>
                {amountLook(row).sign}
                {money(row.amount, row.currency)}
              </span>
            </a>
          </li>
        ))}
      </ul>
      {more === true ? (
        <button type="button" onClick={() => void loadMore()}>
          {t('history.more')}
        </button>
      ) : null}
    </>
  );
}

export function ReceiptScreen(props: { id: string }) {
  const { t, money, dateTime } = useText();
  const { client, navigate } = useWallet();
  const receipt = useLoad((signal) => client.transactions.retrieve(props.id, { signal }), [client, props.id]);
  const row = receipt.value;
  return (
    <>
      <button type="button" className="link" onClick={() => navigate('/history')}>
        ← {t('common.back')}
      </button>
      <h1>{t('receipt.title')}</h1>
      {receipt.error === null ? null : <Alert>{errorText(receipt.error, t)}</Alert>}
      {row === null ? (
        receipt.error === null ? (
          <p>{t('common.loading')}</p>
        ) : null
      ) : (
        <section className="card receipt">
          <p className={`receipt-amount ${amountLook(row).className}`} data-amount={row.status}>
            {amountLook(row).sign}
            {money(row.amount, row.currency)}
          </p>
          <dl>
            <dt>{t('history.type')}</dt>
            <dd>{t(`type.${row.type}` as MessageKey)}</dd>
            <dt>{t('receipt.status')}</dt>
            <dd className="receipt-status" data-status={row.status}>
              {t(`status.${row.status}` as MessageKey)}
            </dd>
            {row.counterparty === null ? null : (
              <>
                <dt>{t('receipt.counterparty')}</dt>
                <dd>{row.counterparty.name}</dd>
              </>
            )}
            <dt>{t('receipt.fee')}</dt>
            <dd>{money(row.fee, row.currency)}</dd>
            <dt>{t('receipt.time')}</dt>
            <dd>{dateTime(row.created)}</dd>
            {row.note === null ? null : (
              <>
                <dt>{t('receipt.note')}</dt>
                <dd>{row.note}</dd>
              </>
            )}
            {row.failure_code === null ? null : (
              <>
                <dt>{t('receipt.failure')}</dt>
                <dd>{errorText({ code: row.failure_code }, t)}</dd>
              </>
            )}
            <dt>{t('receipt.reference')}</dt>
            <dd className="mono">{row.reference}</dd>
            <dt>{t('receipt.id')}</dt>
            <dd className="mono">{row.id}</dd>
          </dl>
        </section>
      )}
    </>
  );
}
