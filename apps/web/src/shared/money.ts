import { currencyExponent, formatAmount, tryParseAmount, type ParseAmountErrorCode } from '@yunpay/sdk';

/**
 * Money in the web apps: amounts stay integers in minor units; these wrap the SDK's exact helpers
 * (Intl.NumberFormat per currency and locale, parsing without floats).
 */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  // ¥ for CNY in every language, as Alipay and WeChat Pay write it (English's own symbol is CN¥).
  // Other currencies keep the locale's symbol (US$, HK$ in zh-CN) so that a bare $ stays unambiguous.
  const currencyDisplay = currency.toUpperCase() === 'CNY' ? 'narrowSymbol' : 'symbol';
  return formatAmount(amountMinor, currency, locale, { currencyDisplay });
}

/**
 * A currency as people of the locale name it: 人民币, 港元, 美元 in Chinese (never a bare ISO
 * code in Chinese text), the ISO code (CNY, HKD) in English, where it is the usual label.
 */
export function currencyName(currency: string, locale: string): string {
  const code = currency.toUpperCase();
  if (!locale.startsWith('zh')) return code;
  try {
    return new Intl.DisplayNames([locale], { type: 'currency', fallback: 'code' }).of(code) ?? code;
  } catch {
    return code;
  }
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
