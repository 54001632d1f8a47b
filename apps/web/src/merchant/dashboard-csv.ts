/**
 * Payments as a CSV file (RFC 4180, CRLF line ends, UTF-8 with a byte order mark so that
 * spreadsheet programs read Chinese text right). Amounts are decimal strings made from integer
 * minor units by the SDK (toDecimalString): never a float on the way.
 */
import { toDecimalString } from '@yunpay/sdk';

export const paymentCsvColumns = [
  'id',
  'created',
  'amount',
  'currency',
  'status',
  'description',
  'livemode',
  'payment_method',
  'fee',
  'net',
  'amount_refunded',
] as const;

export type PaymentCsvColumn = (typeof paymentCsvColumns)[number];

/** One payment as the file shows it; amounts in minor units (null: not known, e.g. no charge yet). */
export interface PaymentCsvRow {
  id: string;
  createdS: number;
  amountMinor: number;
  currency: string;
  status: string;
  description: string;
  livemode: boolean;
  paymentMethod: string;
  feeMinor: number | null;
  netMinor: number | null;
  refundedMinor: number;
}

/**
 * Text a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) is prefixed
 * with an apostrophe (OWASP's advice against CSV injection). Only free text goes through here:
 * amounts are ours and may be negative.
 */
function neutralised(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function amount(amountMinor: number | null, currency: string): string {
  return amountMinor === null ? '' : toDecimalString(amountMinor, currency);
}

export function paymentsCsv(rows: readonly PaymentCsvRow[]): string {
  const lines = [paymentCsvColumns.join(',')];
  for (const row of rows) {
    if (!Number.isSafeInteger(row.amountMinor) || !Number.isSafeInteger(row.createdS)) {
      throw new Error('assertion failed: integer amounts and times');
    }
    const values: Record<PaymentCsvColumn, string> = {
      id: row.id,
      created: new Date(row.createdS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      amount: amount(row.amountMinor, row.currency),
      currency: row.currency.toUpperCase(),
      status: neutralised(row.status),
      description: neutralised(row.description),
      livemode: row.livemode ? 'true' : 'false',
      payment_method: neutralised(row.paymentMethod),
      fee: amount(row.feeMinor, row.currency),
      net: amount(row.netMinor, row.currency),
      amount_refunded: amount(row.refundedMinor, row.currency),
    };
    lines.push(paymentCsvColumns.map((column) => field(values[column])).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
