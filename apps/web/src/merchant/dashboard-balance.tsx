import type { Balance, DailyBalanceSummary } from '@yunpay/sdk';
import { useEffect, useState } from 'react';
import { useI18n } from './i18n.js';
import { formatMoney } from './keypad.js';
import { errorMessage, merchantClient, merchantSession } from './api.js';

type DailyRow = DailyBalanceSummary;

const chartDays = 30;

/** The last `days` UTC days, oldest first, as YYYY-MM-DD. */
function lastDays(days: number): string[] {
  const today = new Date();
  const todayMs = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Array.from({ length: days }, (_, index) =>
    new Date(todayMs - (days - 1 - index) * 86_400_000).toISOString().slice(0, 10),
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
      <table className="data">
        <thead>
          <tr>
            <th scope="col">{t('balance.currency')}</th>
            <th scope="col">{t('balance.available')}</th>
            <th scope="col">{t('balance.pending')}</th>
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

/** A small hand-written SVG bar chart (volume and fees per day) with the same numbers as a table. */
function DailyChart({ currency, rows }: { currency: string; rows: DailyRow[] }) {
  const { t, locale } = useI18n();
  const days = lastDays(chartDays);
  const byDay = new Map(rows.map((row) => [row.day, row]));
  const volumeMax = Math.max(1, ...rows.map((row) => row.volume));
  const width = 640;
  const height = 200;
  const padding = 24;
  const slot = (width - padding * 2) / days.length;
  const barWidth = Math.max(2, slot * 0.4);
  const scale = (value: number) => ((height - padding * 2) * value) / volumeMax;
  const titleId = `chart-title-${currency}`;
  const descId = `chart-desc-${currency}`;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${titleId} ${descId}`} className="chart-svg">
        <title id={titleId}>{`${t('balance.chart', { days: chartDays })} (${currency.toUpperCase()})`}</title>
        <desc id={descId}>{t('balance.chartLabel', { currency: currency.toUpperCase() })}</desc>
        <line x1={padding} y1={height - padding} x2={width - padding} y2={height - padding} className="chart-axis" />
        {days.map((day, index) => {
          const row = byDay.get(day);
          if (row === undefined) return null;
          const x = padding + index * slot;
          const volumeHeight = scale(row.volume);
          const feeHeight = Math.max(1, scale(row.fees));
          return (
            <g key={day}>
              <rect
                x={x}
                y={height - padding - volumeHeight}
                width={barWidth}
                height={volumeHeight}
                className="bar-volume"
              />
              <rect
                x={x + barWidth}
                y={height - padding - feeHeight}
                width={barWidth}
                height={feeHeight}
                className="bar-fee"
              />
            </g>
          );
        })}
        <text x={padding} y={height - 6} className="chart-label">
          {days[0]}
        </text>
        <text x={width - padding} y={height - 6} className="chart-label chart-label-end">
          {days[days.length - 1]}
        </text>
      </svg>
      <figcaption className="legend">
        <span className="legend-volume">{t('balance.volume')}</span>{' '}
        <span className="legend-fee">{t('balance.fees')}</span>
      </figcaption>
      <table className="data">
        <caption>{`${t('balance.chart', { days: chartDays })} (${currency.toUpperCase()})`}</caption>
        <thead>
          <tr>
            <th scope="col">{t('balance.day')}</th>
            <th scope="col">{t('balance.volume')}</th>
            <th scope="col">{t('balance.refunded')}</th>
            <th scope="col">{t('balance.fees')}</th>
            <th scope="col">{t('balance.net')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.day}>
              <th scope="row">{row.day}</th>
              <td className="number">{formatMoney(row.volume, currency, locale)}</td>
              <td className="number">{formatMoney(row.refunded, currency, locale)}</td>
              <td className="number">{formatMoney(row.fees, currency, locale)}</td>
              <td className="number">{formatMoney(row.net, currency, locale)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
