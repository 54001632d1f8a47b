import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotpSha256,
  offlineCode,
  totpStep,
  validateCodeFormat,
} from '../../src/modules/codes/index.js';

describe('base32 (RFC 4648 section 10 vectors, no padding)', () => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  it.each(vectors)('%j ↔ %s', (text, encoded) => {
    expect(base32Encode(Buffer.from(text))).toBe(encoded);
    expect(base32Decode(encoded)?.toString()).toBe(text);
  });

  it('round-trips 32 random-looking bytes and refuses non-alphabet input', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 11) & 0xff));
    const encoded = base32Encode(bytes);
    expect(encoded).toHaveLength(52);
    expect(encoded).toMatch(/^[A-Z2-7]+$/);
    expect(base32Decode(encoded)?.equals(bytes)).toBe(true);
    expect(base32Decode('MZXW1')).toBeNull();
  });
});

describe('TOTP with HMAC-SHA256 (RFC 6238 appendix B vectors, 8 digits)', () => {
  // RFC 6238's SHA-256 seed is the 32-byte ASCII string "1234567890" repeated.
  const seed = Buffer.from('12345678901234567890123456789012', 'ascii');
  const vectors: Array<[number, string]> = [
    [59, '46119246'],
    [1_111_111_109, '68084774'],
    [1_111_111_111, '67062674'],
    [1_234_567_890, '91819424'],
    [2_000_000_000, '90698825'],
    [20_000_000_000, '77737706'],
  ];
  it.each(vectors)('at %i s → %s', (unixSeconds, expected) => {
    expect(hotpSha256(seed, totpStep(unixSeconds * 1_000))).toBe(expected);
  });

  it('matches an independent dynamic truncation for many counters', () => {
    const secret = Buffer.alloc(32, 7);
    for (let counter = 0n; counter < 200n; counter += 1n) {
      const message = Buffer.alloc(8);
      message.writeBigUInt64BE(counter);
      const mac = createHmac('sha256', secret).update(message).digest();
      const offset = mac[31]! & 0xf;
      const binary =
        ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
      expect(hotpSha256(secret, counter)).toBe(String(binary % 100_000_000).padStart(8, '0'));
    }
  });

  it('steps are 30 s from T0 = 0', () => {
    expect(totpStep(0)).toBe(0n);
    expect(totpStep(29_999)).toBe(0n);
    expect(totpStep(30_000)).toBe(1n);
  });

  it('the documented worked example (docs/payment-codes.md)', () => {
    const secret = base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA');
    expect(secret?.toString('ascii')).toBe('12345678901234567890123456789012');
    const step = totpStep(1_767_225_600_000); // 2026-01-01T00:00:00Z
    expect(step).toBe(58_907_520n);
    const code = offlineCode({ deviceNumber: '12345678', secret: secret!, step });
    expect(code).toBe(`8912345678${hotpSha256(secret!, step)}`);
    expect(code).toBe(documentedExampleCode);
  });
});

// Computed independently with python3 (hmac, hashlib) and written into docs/payment-codes.md.
const documentedExampleCode = '891234567883594141';

describe('validateCodeFormat', () => {
  const cases: Array<[string, 'online' | 'offline' | null]> = [
    ['881234567890123456', 'online'],
    ['891234567812345678', 'offline'],
    ['871234567890123456', null],
    ['88123456789012345', null],
    ['8812345678901234567', null],
    ['88123456789012345a', null],
    [' 881234567890123456', null],
    ['', null],
  ];
  it.each(cases)('%j → %s', (code, mode) => {
    expect(validateCodeFormat(code)?.mode ?? null).toBe(mode);
  });

  it('splits an offline code into device number and TOTP', () => {
    expect(validateCodeFormat('891234567887654321')).toEqual({
      mode: 'offline',
      code: '891234567887654321',
      deviceNumber: '12345678',
      totp: '87654321',
    });
  });
});
