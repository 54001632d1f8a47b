import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/platform/logger.js';
import { LogCapture } from './support/app.js';

describe('logger', () => {
  it('writes JSON lines with a string level and redacts secrets at every depth', () => {
    const capture = new LogCapture();
    const logger = createLogger({ level: 'info', destination: capture });
    logger.info(
      {
        req: { headers: { authorization: 'Bearer sekrit-1', cookie: 'sid=sekrit-2', 'x-api-key': 'sekrit-3' } },
        user: { password: 'sekrit-4', pin: '1234' },
        payment: { card: { number: '4242424242424242', cvc: '123' }, amount: 500 },
        token: 'sekrit-5',
        invoice: { number: 'INV-7' },
      },
      'hello',
    );
    logger.debug('not at info');
    expect(capture.lines).toHaveLength(1);
    const line = capture.raw[0] ?? '';
    for (const secret of ['sekrit-1', 'sekrit-2', 'sekrit-3', 'sekrit-4', '1234', '4242424242424242', 'sekrit-5']) {
      expect(line).not.toContain(secret);
    }
    const parsed = capture.lines[0] ?? {};
    expect(parsed.level).toBe('info');
    expect(parsed.msg).toBe('hello');
    expect(parsed.service).toBe('yunpay');
    expect(parsed.payment).toEqual({ card: { number: '[redacted]', cvc: '[redacted]' }, amount: 500 });
    // "number" outside a card is ordinary data.
    expect(parsed.invoice).toEqual({ number: 'INV-7' });
  });
});
