import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
// Bundled into the dashboard's stylesheet file: the strict CSP (style-src 'self') allows no inline <style>.
import 'uplot/dist/uPlot.min.css';
import { formatDayMs, formatDayShort } from './dashboard-format.js';
import { formatMoney } from './keypad.js';

export interface DailySeries {
  label: string;
  /** Minor units per day, one per entry of `daysMs`. */
  values: number[];
  /** A CSS colour for the canvas (uPlot draws with it; no style is injected into the page). */
  color: string;
}

const chartHeightPx = 260;
const chartWidthMinPx = 280;
const dayS = 86_400;

/**
 * Daily amounts as bars, drawn by uPlot on a canvas: axes with dates and amounts, and a legend that
 * shows the day and every value under the cursor (the latest day until the cursor moves). The table
 * next to the chart has the same numbers for keyboards and screen readers.
 * uPlot sets element.style through the CSSOM, which the CSP allows; its stylesheet is bundled.
 */
export function DailyChart({
  daysMs,
  series,
  currency,
  locale,
  label,
  dayLabel,
}: {
  /** 00:00 UTC of each day, oldest first. */
  daysMs: number[];
  series: DailySeries[];
  currency: string;
  locale: string;
  /** What the chart shows, for screen readers (the table below has the same numbers). */
  label: string;
  dayLabel: string;
}) {
  const container = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    for (const entry of series) {
      if (entry.values.length !== daysMs.length) throw new Error('assertion failed: one value per day');
    }
    const money = (value: number | null | undefined) =>
      value === null || value === undefined ? '—' : formatMoney(Math.round(value), currency, locale);
    const barsOf = uPlot.paths.bars;
    if (barsOf === undefined) throw new Error('assertion failed: uPlot ships its bars path builder');
    const count = series.length;
    const options: uPlot.Options = {
      width: Math.max(chartWidthMinPx, element.clientWidth),
      height: chartHeightPx,
      // x in seconds (uPlot's time scale); every label is ours, in UTC days.
      scales: {
        // Half a day either side: the first and last bars are drawn whole.
        x: { time: true, range: (_u, min, max) => [min - dayS / 2, max + dayS / 2] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      series: [
        { label: dayLabel, value: (_u, value) => (value === null ? '—' : formatDayMs(value * 1000, locale)) },
        ...series.map((entry, index) => ({
          label: entry.label,
          stroke: entry.color,
          fill: entry.color,
          width: 0,
          points: { show: false },
          value: (_u: uPlot, value: number | null) => money(value),
          // Side by side within each day's slot: the first left of the day, the others right of it.
          paths: barsOf({ size: [0.8 / count, 40], align: index === 0 ? -1 : 1 }),
        })),
      ],
      axes: [
        {
          values: (_u, splits) => splits.map((split) => formatDayShort(split * 1000, locale)),
          // Room for "11月28日" and "Nov 28" side by side.
          space: 72,
          grid: { show: false },
        },
        {
          size: 90,
          values: (_u, splits) => splits.map((split) => money(split)),
        },
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      // Show the latest day until the cursor moves: the legend always has numbers in it.
      hooks: { ready: [(plot) => plot.setLegend({ idx: daysMs.length - 1 })] },
    };
    const data: uPlot.AlignedData = [daysMs.map((ms) => ms / 1000), ...series.map((entry) => entry.values)];
    const plot = new uPlot(options, data, element);
    const plotArea = element.querySelector('.u-wrap');
    plotArea?.setAttribute('role', 'img');
    plotArea?.setAttribute('aria-label', label);

    const resize = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(chartWidthMinPx, element.clientWidth), height: chartHeightPx });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [daysMs, series, currency, locale, label, dayLabel]);

  return <div ref={container} className="daily-chart" />;
}
