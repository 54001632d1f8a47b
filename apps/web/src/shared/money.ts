import { currencyExponent, formatAmount, tryParseAmount, type ParseAmountErrorCode } from '@yunpay/sdk';

/**
 * Money in the web apps: amounts stay integers in minor units; these wrap the SDK's exact helpers
 * (Intl.NumberFormat per currency and locale, parsing without floats).
 */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  return formatAmount(amountMinor, currency, locale);
}

export type MoneyInput = { ok: true; amountMinor: number } | { ok: false; code: ParseAmountErrorCode | 'amount_zero' };

/** What a person typed, as minor units of currency; zero is refused (nothing to pay). */
export function parseMoney(text: string, currency: string): MoneyInput {
  const result = tryParseAmount(text, currency);
  if (!result.ok) return { ok: false, code: result.code };
  if (result.amountMinor <= 0) return { ok: false, code: 'amount_zero' };
  return { ok: true, amountMinor: result.amountMinor };
}

/** A hint for the amount field: `0.00` for CNY, `0` for JPY. */
export function amountPlaceholder(currency: string): string {
  const exponent = currencyExponent(currency) ?? 2;
  return exponent === 0 ? '0' : `0.${'0'.repeat(exponent)}`;
}
