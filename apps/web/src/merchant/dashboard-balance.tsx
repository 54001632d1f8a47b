import type { Balance, DailyBalanceSummary } from '@yunpay/sdk';
import { useEffect, useMemo, useState } from 'react';
import { DailyChart as DailyBars } from './dashboard-chart.js';
import { dayStartMs, formatDay } from './dashboard-format.js';
import { useI18n } from './i18n.js';
import { formatMoney } from './keypad.js';
import { errorMessage, merchantClient, merchantSession } from './api.js';

type DailyRow = DailyBalanceSummary;

const chartDays = 30;

const dayMs = 86_400_000;

/** The last `days` UTC days, oldest first, as YYYY-MM-DD, ending with the newest day the server knows. */
function lastDays(days: number, rows: DailyRow[]): string[] {
  const today = new Date();
  const todayMs = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  // The browser's clock may lag the server's: the newest summary day is never left out.
  const endMs = Math.max(todayMs, ...rows.map((row) => dayStartMs(row.day)));
  return Array.from({ length: days }, (_, index) =>
    new Date(endMs - (days - 1 - index) * dayMs).toISOString().slice(0, 10),
  );
}

export function BalancePage() {
  const { t, locale } = useI18n();
  const [balance, setBalance] = useState<Balance | null>(null);
  const [rows, setRows] = useState<DailyRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([merchantClient().balance.retrieve(), merchantSession().balance.daily({ days: chartDays })]).then(
      ([loadedBalance, summary]) => {
        setBalance(loadedBalance);
        setRows(summary.data);
      },
      (failure: unknown) => setError(errorMessage(failure)),
    );
  }, []);

  if (error !== null) {
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  }
  if (balance === null || rows === null) return <p role="status">{t('loading')}</p>;
  const currencies = [
    ...new Set([...balance.available.map((entry) => entry.currency), ...rows.map((row) => row.currency)]),
  ];

  return (
    <section aria-labelledby="balance-title">
      <h2 id="balance-title">{t('balance.title')}</h2>
      <div className="table-scroll">
        <table className="data">
          <thead>
            <tr>
              <th scope="col">{t('balance.currency')}</th>
              <th scope="col" className="number">
                {t('balance.available')}
              </th>
              <th scope="col" className="number">
                {t('balance.pending')}
              </th>
            </tr>
          </thead>
          <tbody>
            {currencies.map((currency) => (
              <tr key={currency}>
                <th scope="row">{currency.toUpperCase()}</th>
                <td className="number">
                  {formatMoney(
                    balance.available.find((entry) => entry.currency === currency)?.amount ?? 0,
                    currency,
                    locale,
                  )}
                </td>
                <td className="number">
                  {formatMoney(
                    balance.pending.find((entry) => entry.currency === currency)?.amount ?? 0,
                    currency,
                    locale,
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t('balance.chart', { days: chartDays })}</h3>
      {rows.length === 0 ? (
        <p>{t('balance.none')}</p>
      ) : (
        currencies
          .filter((currency) => rows.some((row) => row.currency === currency))
          .map((currency) => (
            <DailyChart key={currency} currency={currency} rows={rows.filter((row) => row.currency === currency)} />
          ))
      )}
    </section>
  );
}

/** Volume and fees per day (uPlot), with the same numbers as a table. */
function DailyChart({ currency, rows }: { currency: string; rows: DailyRow[] }) {
  const { t, locale } = useI18n();
  const byDay = useMemo(() => new Map(rows.map((row) => [row.day, row])), [rows]);
  const days = useMemo(() => lastDays(chartDays, rows), [rows]);
  const daysMs = useMemo(() => days.map(dayStartMs), [days]);
  const series = useMemo(
    () => [
      { label: t('balance.volume'), values: days.map((day) => byDay.get(day)?.volume ?? 0), color: '#0b5cad' },
      { label: t('balance.fees'), values: days.map((day) => byDay.get(day)?.fees ?? 0), color: '#c2410c' },
    ],
    [t, days, byDay],
  );

  return (
    <figure className="chart">
      <figcaption>{currency.toUpperCase()}</figcaption>
      <DailyBars
        daysMs={daysMs}
        series={series}
        currency={currency}
        locale={locale}
        label={t('balance.chartLabel', { currency: currency.toUpperCase() })}
        dayLabel={t('balance.day')}
      />
      <div className="table-scroll">
        <table className="data">
          <caption className="visually-hidden">{`${t('balance.chart', { days: chartDays })} (${currency.toUpperCase()})`}</caption>
          <thead>
            <tr>
              <th scope="col">{t('balance.day')}</th>
              <th scope="col" className="number">
                {t('balance.volume')}
              </th>
              <th scope="col" className="number">
                {t('balance.refunded')}
              </th>
              <th scope="col" className="number">
                {t('balance.fees')}
              </th>
              <th scope="col" className="number">
                {t('balance.net')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.day}>
                <th scope="row">
                  <time dateTime={row.day}>{formatDay(row.day, locale)}</time>
                </th>
                <td className="number">{formatMoney(row.volume, currency, locale)}</td>
                <td className="number">{formatMoney(row.refunded, currency, locale)}</td>
                <td className="number">{formatMoney(row.fees, currency, locale)}</td>
                <td className="number">{formatMoney(row.net, currency, locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
