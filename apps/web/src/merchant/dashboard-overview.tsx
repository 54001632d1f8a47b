import type { DailyBalanceSummary, PaymentIntent } from '@yunpay/sdk';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { DailyChart } from './dashboard-chart.js';
import { dayStartMs, formatDay } from './dashboard-format.js';
import { PaymentsTable } from './dashboard-payments.js';
import { useI18n } from './i18n.js';
import { formatMoney } from './keypad.js';
import type { MerchantSessionInfo } from '@yunpay/sdk';
import { errorMessage, merchantClient, merchantSession } from './api.js';

/** Days the overview's chart spans, and payments it lists. */
const chartDays = 14;
const recentCount = 5;
const dayMs = 86_400_000;
/**
 * Live: the overview is read again every few seconds while the page is visible (a sale taken on the
 * POS shows up without a reload), for at most half an hour after it was opened or refreshed.
 */
const refreshIntervalMs = 5_000;
const refreshDurationMsMax = 30 * 60 * 1_000;

interface Overview {
  /** The server's UTC day: "today" is its row, whatever this browser's clock says. */
  today: string;
  rows: DailyBalanceSummary[];
  recent: PaymentIntent[];
}

async function loadOverview(): Promise<Overview> {
  const [summary, recent] = await Promise.all([
    merchantSession().balance.daily({ days: chartDays }),
    merchantClient().paymentIntents.list({ limit: recentCount, expand: ['data.latest_charge'] }),
  ]);
  return { today: summary.today, rows: summary.data, recent: recent.data };
}

function sameOverview(current: Overview | null, loaded: Overview): boolean {
  return current !== null && JSON.stringify(current) === JSON.stringify(loaded);
}

/** The `days` UTC days ending with `today`, oldest first, as YYYY-MM-DD. */
function daysEndingWith(today: string, days: number): string[] {
  const endMs = dayStartMs(today);
  return Array.from({ length: days }, (_, index) =>
    new Date(endMs - (days - 1 - index) * dayMs).toISOString().slice(0, 10),
  );
}

/**
 * The dashboard's first page: today's gross volume, successful payments, refunds, fees and net
 * per currency (the server's daily summary of balance transactions, UTC days), the last two weeks
 * as a chart, and the newest payments with links to the rest.
 */
export function OverviewPage({ session }: { session: MerchantSessionInfo }) {
  const { t, locale } = useI18n();
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);

  const [startedMs, setStartedMs] = useState(() => Date.now());

  const load = useCallback(() => {
    setError(null);
    setStartedMs(Date.now());
    loadOverview().then(setOverview, (failure: unknown) => setError(errorMessage(failure)));
  }, []);
  useEffect(load, [load]);

  useEffect(() => {
    let stopped = false;
    const timer = window.setInterval(() => {
      if (Date.now() - startedMs > refreshDurationMsMax) {
        window.clearInterval(timer);
        return;
      }
      if (document.visibilityState !== 'visible') return;
      loadOverview().then(
        (loaded) => {
          // Unchanged numbers keep the same objects: the chart is not redrawn for nothing.
          if (!stopped) setOverview((current) => (sameOverview(current, loaded) ? current : loaded));
        },
        () => {
          // A failed refresh keeps what is shown; the next one tries again.
        },
      );
    }, refreshIntervalMs);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [startedMs]);

  if (error !== null) {
    return (
      <section aria-labelledby="overview-title">
        <h2 id="overview-title">{t('overview.title')}</h2>
        <div className="error-panel">
          <p role="alert" className="error">
            {t('overview.failed')} {error}
          </p>
          <button type="button" className="button secondary" onClick={load}>
            {t('overview.retry')}
          </button>
        </div>
      </section>
    );
  }
  if (overview === null) {
    return (
      <section aria-labelledby="overview-title">
        <h2 id="overview-title">{t('overview.title')}</h2>
        <p role="status">{t('loading')}</p>
      </section>
    );
  }

  const { today, rows, recent } = overview;
  const defaultCurrency = session.account.default_currency;
  // The account's currency always shows (zeros on a quiet day); others when they had payments.
  const currencies = [defaultCurrency, ...new Set(rows.map((row) => row.currency))].filter(
    (currency, index, all) => all.indexOf(currency) === index,
  );

  return (
    <section aria-labelledby="overview-title" className="overview">
      <h2 id="overview-title">{t('overview.title')}</h2>
      <section aria-labelledby="overview-today" className="today">
        <h3 id="overview-today">
          {t('overview.today')} <time dateTime={today}>{formatDay(today, locale)}</time>{' '}
          <span className="hint">{t('overview.utc')}</span>
        </h3>
        {currencies.map((currency) => (
          <TodayFigures
            key={currency}
            currency={currency}
            row={rows.find((row) => row.day === today && row.currency === currency)}
            labelled={currencies.length > 1}
          />
        ))}
      </section>

      <section aria-labelledby="overview-chart">
        <h3 id="overview-chart">{t('balance.chart', { days: chartDays })}</h3>
        {rows.length === 0 ? (
          <p>{t('balance.none')}</p>
        ) : (
          currencies
            .filter((currency) => rows.some((row) => row.currency === currency))
            .map((currency) => (
              <OverviewChart
                key={currency}
                currency={currency}
                today={today}
                rows={rows.filter((row) => row.currency === currency)}
              />
            ))
        )}
      </section>

      <section aria-labelledby="overview-recent">
        <h3 id="overview-recent">{t('overview.recent')}</h3>
        {recent.length === 0 ? (
          <div className="empty">
            <p>{t('overview.empty')}</p>
            <a className="button primary" href="/pos/">
              {t('overview.openPos')}
            </a>
          </div>
        ) : (
          <>
            <PaymentsTable intents={recent} detailed={false} caption={t('overview.recent')} />
            <p>
              <a href="#/payments">{t('overview.allPayments')}</a>
            </p>
          </>
        )}
      </section>
    </section>
  );
}

/** Today's figures in one currency; a day without payments shows zeros (the server omits it). */
function TodayFigures({
  currency,
  row,
  labelled,
}: {
  currency: string;
  row: DailyBalanceSummary | undefined;
  labelled: boolean;
}) {
  const { t, locale } = useI18n();
  const money = (amountMinor: number) => formatMoney(amountMinor, currency, locale);
  const figures: { key: string; label: string; value: string }[] = [
    { key: 'volume', label: t('overview.volume'), value: money(row?.volume ?? 0) },
    { key: 'count', label: t('overview.count'), value: String(row?.charge_count ?? 0) },
    { key: 'refunded', label: t('balance.refunded'), value: money(row?.refunded ?? 0) },
    { key: 'fees', label: t('balance.fees'), value: money(row?.fees ?? 0) },
    { key: 'net', label: t('balance.net'), value: money(row?.net ?? 0) },
  ];
  return (
    <div className="figures-group">
      {labelled && <p className="figures-currency">{currency.toUpperCase()}</p>}
      <dl className="figures">
        {figures.map((figure) => (
          <div key={figure.key} className="figure">
            <dt>{figure.label}</dt>
            <dd data-testid={labelled ? `today-${figure.key}-${currency}` : `today-${figure.key}`}>{figure.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function OverviewChart({ currency, today, rows }: { currency: string; today: string; rows: DailyBalanceSummary[] }) {
  const { t, locale } = useI18n();
  const days = useMemo(() => daysEndingWith(today, chartDays), [today]);
  const daysMs = useMemo(() => days.map(dayStartMs), [days]);
  const series = useMemo(() => {
    const byDay = new Map(rows.map((row) => [row.day, row]));
    return [
      { label: t('balance.volume'), values: days.map((day) => byDay.get(day)?.volume ?? 0), color: '#0b5cad' },
      { label: t('balance.fees'), values: days.map((day) => byDay.get(day)?.fees ?? 0), color: '#c2410c' },
    ];
  }, [t, days, rows]);
  return (
    <figure className="chart">
      <figcaption>
        {currency.toUpperCase()} · <a href="#/balance">{t('overview.balanceLink')}</a>
      </figcaption>
      <DailyChart
        daysMs={daysMs}
        series={series}
        currency={currency}
        locale={locale}
        label={t('overview.chartLabel', { currency: currency.toUpperCase() })}
        dayLabel={t('balance.day')}
      />
    </figure>
  );
}
