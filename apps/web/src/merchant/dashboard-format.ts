/**
 * Every date and time the dashboard shows goes through here: one format (Intl, the dashboard's
 * language), never ISO strings in one place and localized ones in another.
 */

/** Unix seconds as the dashboard's date and time, e.g. "Dec 3, 2026, 4:48:29 PM" or "2026年12月3日 16:48:29". */
export function formatDateTime(unixS: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(unixS * 1000));
}

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds at 00:00 UTC of a YYYY-MM-DD day (the server's daily summaries are per UTC day). */
export function dayStartMs(day: string): number {
  const match = dayPattern.exec(day);
  if (match === null) throw new Error(`assertion failed: ${day} is a YYYY-MM-DD day`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

/** A UTC day in the same style as formatDateTime, without the time: "Dec 3, 2026" or "2026年12月3日". */
export function formatDay(day: string, locale: string): string {
  return formatDayMs(dayStartMs(day), locale);
}

/** A day given as milliseconds since the epoch (UTC), as formatDay shows it. */
export function formatDayMs(ms: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(ms));
}

/** A short day for chart axes: "Dec 3" or "12月3日". */
export function formatDayShort(ms: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(ms));
}
