/**
 * ISO 4217 currencies we accept, with their numeric code and minor-unit exponent.
 * Money is always an integer count of minor units (bigint) plus one of these codes.
 */
export interface CurrencyInfo {
  readonly code: string;
  readonly numeric: string;
  readonly exponent: 0 | 2 | 3;
}

const table: ReadonlyArray<readonly [string, string, 0 | 2 | 3]> = [
  ['AED', '784', 2],
  ['ARS', '032', 2],
  ['AUD', '036', 2],
  ['BDT', '050', 2],
  ['BHD', '048', 3],
  ['BRL', '986', 2],
  ['CAD', '124', 2],
  ['CHF', '756', 2],
  ['CLP', '152', 0],
  ['CNY', '156', 2],
  ['COP', '170', 2],
  ['CZK', '203', 2],
  ['DKK', '208', 2],
  ['EGP', '818', 2],
  ['EUR', '978', 2],
  ['GBP', '826', 2],
  ['GHS', '936', 2],
  ['HKD', '344', 2],
  ['HUF', '348', 2],
  ['IDR', '360', 2],
  ['ILS', '376', 2],
  ['INR', '356', 2],
  ['IQD', '368', 3],
  ['ISK', '352', 0],
  ['JOD', '400', 3],
  ['JPY', '392', 0],
  ['KES', '404', 2],
  ['KRW', '410', 0],
  ['KWD', '414', 3],
  ['LKR', '144', 2],
  ['LYD', '434', 3],
  ['MAD', '504', 2],
  ['MOP', '446', 2],
  ['MXN', '484', 2],
  ['MYR', '458', 2],
  ['NGN', '566', 2],
  ['NOK', '578', 2],
  ['NZD', '554', 2],
  ['OMR', '512', 3],
  ['PEN', '604', 2],
  ['PHP', '608', 2],
  ['PKR', '586', 2],
  ['PLN', '985', 2],
  ['QAR', '634', 2],
  ['RON', '946', 2],
  ['RUB', '643', 2],
  ['RWF', '646', 0],
  ['SAR', '682', 2],
  ['SEK', '752', 2],
  ['SGD', '702', 2],
  ['THB', '764', 2],
  ['TND', '788', 3],
  ['TRY', '949', 2],
  ['TWD', '901', 2],
  ['TZS', '834', 2],
  ['UAH', '980', 2],
  ['UGX', '800', 0],
  ['USD', '840', 2],
  ['VND', '704', 0],
  ['XAF', '950', 0],
  ['XOF', '952', 0],
  ['ZAR', '710', 2],
];

export const currencies: ReadonlyMap<string, CurrencyInfo> = new Map(
  table.map(([code, numeric, exponent]) => [code, { code, numeric, exponent }]),
);

export function currencyInfo(code: string): CurrencyInfo | undefined {
  return currencies.get(code);
}

export function isKnownCurrency(code: string): boolean {
  return currencies.has(code);
}

/** The largest amount any account or transfer may hold: PostgreSQL's bigint. */
export const amountMinorMax = 9_223_372_036_854_775_807n;

/** Formats minor units as a plain decimal string using the currency's exponent (no floats). */
export function formatMinor(amountMinor: bigint, currency: string): string {
  const exponent = currencyInfo(currency)?.exponent ?? 2;
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
