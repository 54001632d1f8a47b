import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any of the first three levels of an object. */
const sensitiveKeys = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'password',
  'pin',
  'token',
  'adminToken',
  'admin_token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'secret',
  'apiKey',
  'api_key',
  'cardNumber',
  'card_number',
  'pan',
  'cvc',
  'cvv',
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of sensitiveKeys) {
    const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `["${key}"]`;
    const top = segment.startsWith('.') ? segment.slice(1) : segment;
    paths.push(top, `*${segment}`, `*.*${segment}`);
  }
  // Stripe-style card objects: card.number is a PAN, while "number" elsewhere is harmless.
  paths.push('card.number', '*.card.number', '*.*.card.number');
  return paths;
}

export const redactedPaths: readonly string[] = redactPaths();

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when omitted (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/** JSON lines, one object per event; secrets redacted; request lines carry request_id. */
export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'yunpay', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...redactedPaths], censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
