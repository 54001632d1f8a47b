import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cardBrandOf,
  cardVaultMigrations,
  checkCvc,
  checkPan,
  createVault,
  luhnValid,
  maskPan,
  panValid,
  parseVaultKeys,
  vaultKeys,
  type CardBrand,
  type CardVault,
  type VaultKeys,
} from '../../src/modules/cards/vault/index.js';
import { AppError } from '../../src/platform/errors.js';
import { openTestDb, type TestDb } from '../support/db.js';

const nowMs = Date.UTC(2026, 0, 15);

function keyText(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

async function asyncErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

/** Appends the Luhn check digit to a prefix. */
function withCheckDigit(prefix: string): string {
  for (let digit = 0; digit <= 9; digit += 1) {
    if (luhnValid(`${prefix}${digit}`)) return `${prefix}${digit}`;
  }
  throw new Error('unreachable');
}

/** Every Luhn-valid run of 12–19 digits inside text. */
function luhnValidDigitRuns(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/[0-9]{12,}/g)) {
    const run = match[0];
    for (let length = 12; length <= 19; length += 1) {
      for (let start = 0; start + length <= run.length; start += 1) {
        const candidate = run.slice(start, start + length);
        if (luhnValid(candidate)) found.push(candidate);
      }
    }
  }
  return found;
}

describe('card numbers', () => {
  const stripeTestCards: [string, CardBrand][] = [
    ['4242424242424242', 'visa'],
    ['4000056655665556', 'visa'],
    ['4000000000000002', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['5200828282828210', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6011000990139424', 'discover'],
    ['3056930009020004', 'diners'],
    ['36227206271667', 'diners'],
    ['3566002020360505', 'jcb'],
    ['6200000000000005', 'unionpay'],
  ];

  it.each(stripeTestCards)('%s is a valid %s', (pan, brand) => {
    expect(luhnValid(pan)).toBe(true);
    expect(cardBrandOf(pan)).toBe(brand);
    expect(checkPan(pan)).toEqual({ brand });
  });

  const binTable: [string, CardBrand][] = [
    ['4111', 'visa'],
    ['5100', 'mastercard'],
    ['5599', 'mastercard'],
    ['2221', 'mastercard'],
    ['2720', 'mastercard'],
    ['2220', 'unknown'],
    ['2721', 'unknown'],
    ['3400', 'amex'],
    ['3700', 'amex'],
    ['6011', 'discover'],
    ['6440', 'discover'],
    ['6499', 'discover'],
    ['6500', 'discover'],
    ['6012', 'unknown'],
    ['3528', 'jcb'],
    ['3589', 'jcb'],
    ['3527', 'unknown'],
    ['3590', 'unknown'],
    ['6200', 'unionpay'],
    ['3600', 'diners'],
    ['3000', 'diners'],
    ['3059', 'diners'],
    ['3060', 'unknown'],
    ['3800', 'diners'],
    ['3999', 'diners'],
    ['5000', 'unknown'],
    ['1234', 'unknown'],
  ];

  it.each(binTable)('BIN prefix %s is %s', (prefix, brand) => {
    expect(cardBrandOf(`${prefix}000000000000`)).toBe(brand);
  });

  it.each([
    ['one digit changed (Luhn)', '4242424242424241'],
    ['spaces', '4242 4242 4242 4242'],
    ['dashes', '4242-4242-4242-4242'],
    ['letters', '42424242424242a2'],
    ['empty', ''],
    ['11 digits', withCheckDigit('4242424242')],
    ['20 digits', withCheckDigit('4242424242424242424')],
    ['amex with 16 digits', withCheckDigit('378282246310000')],
    ['mastercard with 15 digits', withCheckDigit('55555555555544')],
    ['visa with 15 digits', withCheckDigit('42424242424242')],
    ['11 zeros', '00000000000'],
  ])('refuses %s', (_label, pan) => {
    expect(errorCode(() => checkPan(pan))).toBe('invalid_number');
    expect(panValid(pan)).toBe(false);
  });

  it('refuses a number that is not a string, and never echoes the number', () => {
    expect(errorCode(() => checkPan(4242424242424242))).toBe('invalid_number');
    try {
      checkPan('4242424242424241');
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).message).not.toContain('424242');
    }
  });

  it('accepts an unknown brand of 12–19 Luhn-valid digits', () => {
    expect(checkPan(withCheckDigit('99999999999'))).toEqual({ brand: 'unknown' });
  });

  it('Luhn matches a reference implementation on random digit strings', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,19}$/), (digits) => {
        let sum = 0;
        [...digits].reverse().forEach((char, index) => {
          const value = Number(char) * (index % 2 === 1 ? 2 : 1);
          sum += Math.floor(value / 10) + (value % 10);
        });
        expect(luhnValid(digits)).toBe(sum % 10 === 0);
      }),
    );
  });

  it('masks to the BIN and the last 4', () => {
    expect(maskPan('4242424242424242')).toEqual({ bin: '424242', last4: '4242', display: '424242******4242' });
    expect(maskPan('378282246310005')).toEqual({ bin: '378282', last4: '0005', display: '378282*****0005' });
    expect(maskPan('36227206271667').display).toBe('362272****1667');
    expect(errorCode(() => maskPan('4242424242424241'))).toBe('invalid_number');
  });

  it('checks the CVC format: 4 digits for amex, 3 otherwise', () => {
    expect(errorCode(() => checkCvc('123', 'visa'))).toBe('ok');
    expect(errorCode(() => checkCvc('1234', 'amex'))).toBe('ok');
    expect(errorCode(() => checkCvc('1234', 'visa'))).toBe('invalid_cvc');
    expect(errorCode(() => checkCvc('123', 'amex'))).toBe('invalid_cvc');
    expect(errorCode(() => checkCvc('12a', 'mastercard'))).toBe('invalid_cvc');
    expect(errorCode(() => checkCvc(123, 'visa'))).toBe('invalid_cvc');
  });
});

describe('vault keys', () => {
  const key = randomBytes(32).toString('base64');

  it('parses id:base64 lists', () => {
    const ring = parseVaultKeys(` k1:${key} , k2:${randomBytes(32).toString('base64')}`, 'k2');
    expect([...ring.keys.keys()]).toEqual(['k1', 'k2']);
    expect(ring.currentId).toBe('k2');
    expect(ring.current).toBe(ring.keys.get('k2'));
  });

  it.each([
    ['an empty list', '', 'k1'],
    ['no separator', key, 'k1'],
    ['a bad id', `k 1:${key}`, 'k 1'],
    ['a short key', `k1:${randomBytes(16).toString('base64')}`, 'k1'],
    ['a long key', `k1:${randomBytes(33).toString('base64')}`, 'k1'],
    ['base64url', `k1:${randomBytes(32).toString('base64url')}`, 'k1'],
    ['a duplicate id', `k1:${key},k1:${randomBytes(32).toString('base64')}`, 'k1'],
    ['a repeated key', `k1:${key},k2:${key}`, 'k1'],
    ['a zero key', `k1:${Buffer.alloc(32).toString('base64')}`, 'k1'],
    ['an unknown current id', `k1:${key}`, 'k9'],
  ])('refuses %s with config_invalid and no key material', (_label, text, currentId) => {
    try {
      parseVaultKeys(text, currentId);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('config_invalid');
      expect((error as AppError).message).not.toContain(key);
    }
  });

  it('keeps keys redacted and refuses one key for two purposes', () => {
    const ring = parseVaultKeys(`k1:${key}`, 'k1');
    expect(JSON.stringify(ring.current)).toBe('"[redacted]"');
    expect(inspect(ring)).not.toContain(key);
    expect(errorCode(() => vaultKeys(ring, parseVaultKeys(`f1:${key}`, 'f1')))).toBe('config_invalid');
  });
});

describe.each([1, 3])('vault (rewrap batch size %i)', (batchSize) => {
  let testDb: TestDb;
  const k1 = keyText('k1');
  const k2 = keyText('k2');
  const fingerprintKeys = parseVaultKeys(keyText('f1'), 'f1');
  const keysFor = (text: string, currentId: string): VaultKeys =>
    vaultKeys(parseVaultKeys(text, currentId), fingerprintKeys);
  let vault: CardVault;

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: [...cardVaultMigrations] });
    vault = createVault({ db: testDb.db, keys: keysFor(k1, 'k1'), now: () => nowMs });
  });
  afterAll(async () => {
    await testDb?.dispose();
  });

  it('stores and reveals a card, returning only the BIN and last 4', async () => {
    const stored = await vault.store({
      pan: '4242424242424242',
      expMonth: 12,
      expYear: 2030,
      cardholderName: 'Li Wei',
    });
    expect(stored).toMatchObject({ bin: '424242', last4: '4242', brand: 'visa', expMonth: 12, expYear: 2030 });
    expect(stored.id).toMatch(/^card_[0-9A-Za-z]{22}$/);
    expect(JSON.stringify(stored)).not.toContain('4242424242424242');
    const revealed = await vault.reveal(stored.id);
    expect(revealed.pan).toBe('4242424242424242');
    expect(revealed).toMatchObject({ brand: 'visa', expMonth: 12, expYear: 2030, cardholderName: 'Li Wei' });
    // A revealed card that reaches a log shows the masked number only.
    expect(JSON.stringify(revealed)).not.toContain('4242424242424242');
    expect(JSON.stringify(revealed)).toContain('424242******4242');
    expect(inspect(revealed)).not.toContain('4242424242424242');
    expect(String(revealed)).not.toContain('4242424242424242');
    expect(await vault.retrieve(stored.id)).toEqual(stored);
    expect(await vault.retrieve('card_doesnotexist00000000')).toBeNull();
    expect(await asyncErrorCode(vault.reveal('card_0000000000000000000000'))).toBe('not_found');
  });

  it('refuses invalid cards and never accepts a CVC', async () => {
    expect(await asyncErrorCode(vault.store({ pan: '4242424242424241', expMonth: 1, expYear: 2030 }))).toBe(
      'invalid_number',
    );
    expect(await asyncErrorCode(vault.store({ pan: '4242424242424242', expMonth: 13, expYear: 2030 }))).toBe(
      'invalid_expiry_month',
    );
    expect(await asyncErrorCode(vault.store({ pan: '4242424242424242', expMonth: 12, expYear: 2025 }))).toBe(
      'invalid_expiry_year',
    );
    expect(await asyncErrorCode(vault.store({ pan: '4242424242424242', expMonth: 12, expYear: 2100 }))).toBe(
      'invalid_expiry_year',
    );
    const withCvc = { pan: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };
    await expect(vault.store(withCvc)).rejects.toThrow(/not cvc/);
    const rows = await testDb.db.query<{ count: bigint }>(
      "select count(*) as count from cards_vault where last4 = '4242'",
    );
    expect(rows[0]?.count).toBe(1n);
  });

  it('gives the same card the same fingerprint and another card another', async () => {
    const first = await vault.store({ pan: '5555555555554444', expMonth: 3, expYear: 2029 });
    const second = await vault.store({ pan: '5555555555554444', expMonth: 4, expYear: 2031 });
    const other = await vault.store({ pan: '5200828282828210', expMonth: 3, expYear: 2029 });
    expect(second.id).not.toBe(first.id);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(other.fingerprint).not.toBe(first.fingerprint);
    expect(vault.fingerprintOf('5555555555554444')).toBe(first.fingerprint);
    const matches = await vault.findByFingerprint(first.fingerprint);
    expect(matches.map((card) => card.id).sort()).toEqual([first.id, second.id].sort());
    expect(await vault.findByFingerprint('not a fingerprint')).toEqual([]);
    // Another fingerprint key gives other fingerprints: they are keyed, not a plain hash of the PAN.
    const otherVault = createVault({
      db: testDb.db,
      keys: vaultKeys(parseVaultKeys(k1, 'k1'), parseVaultKeys(keyText('f2'), 'f2')),
    });
    expect(otherVault.fingerprintOf('5555555555554444')).not.toBe(first.fingerprint);
  });

  describe('tampering', () => {
    async function column(id: string, name: 'ciphertext' | 'wrapped_data_key'): Promise<string> {
      const rows = await testDb.db.query<Record<string, string>>(`select ${name} from cards_vault where id = $1`, [id]);
      return rows[0]![name]!;
    }
    function flipOneCharacter(sealed: string): string {
      const index = 10;
      const replacement = sealed[index] === 'A' ? 'B' : 'A';
      return sealed.slice(0, index) + replacement + sealed.slice(index + 1);
    }

    it.each(['ciphertext', 'wrapped_data_key'] as const)('a changed %s does not decrypt', async (name) => {
      const card = await vault.store({ pan: '378282246310005', expMonth: 6, expYear: 2028 });
      await testDb.db.query(`update cards_vault set ${name} = $2 where id = $1`, [
        card.id,
        flipOneCharacter(await column(card.id, name)),
      ]);
      expect(await asyncErrorCode(vault.reveal(card.id))).toBe('card_vault_record_unreadable');
    });

    it('a record moved to another id does not decrypt', async () => {
      const a = await vault.store({ pan: '6011111111111117', expMonth: 6, expYear: 2028 });
      const b = await vault.store({ pan: '6011000990139424', expMonth: 6, expYear: 2028 });
      // Swap both the ciphertext and the wrapped key, as if the rows' ids were exchanged.
      await testDb.db.query(
        `update cards_vault t set ciphertext = s.ciphertext, wrapped_data_key = s.wrapped_data_key
         from cards_vault s where (t.id, s.id) in (($1, $2), ($2, $1))`,
        [a.id, b.id],
      );
      expect(await asyncErrorCode(vault.reveal(a.id))).toBe('card_vault_record_unreadable');
      expect(await asyncErrorCode(vault.reveal(b.id))).toBe('card_vault_record_unreadable');
    });

    it('a ciphertext alone moved to another record does not decrypt', async () => {
      const a = await vault.store({ pan: '3566002020360505', expMonth: 6, expYear: 2028 });
      const b = await vault.store({ pan: '3566002020360505', expMonth: 6, expYear: 2028 });
      await testDb.db.query('update cards_vault set ciphertext = $2 where id = $1', [
        a.id,
        await column(b.id, 'ciphertext'),
      ]);
      expect(await asyncErrorCode(vault.reveal(a.id))).toBe('card_vault_record_unreadable');
      expect((await vault.reveal(b.id)).pan).toBe('3566002020360505');
    });

    it('a clear column edited by hand is detected', async () => {
      const card = await vault.store({ pan: '3056930009020004', expMonth: 6, expYear: 2028 });
      await testDb.db.query("update cards_vault set last4 = '0000' where id = $1", [card.id]);
      expect(await asyncErrorCode(vault.reveal(card.id))).toBe('card_vault_record_unreadable');
    });

    it('a record whose key is not configured says so', async () => {
      const card = await vault.store({ pan: '36227206271667', expMonth: 6, expYear: 2028 });
      const other = createVault({ db: testDb.db, keys: keysFor(k2, 'k2'), now: () => nowMs });
      expect(await asyncErrorCode(other.reveal(card.id))).toBe('card_vault_key_unknown');
      await testDb.db.query("update cards_vault set kek_id = 'k2' where id = $1", [card.id]);
      const both = createVault({ db: testDb.db, keys: keysFor(`${k1},${k2}`, 'k2'), now: () => nowMs });
      // kek_id is bound to the wrapped key: pointing it at another configured key does not open.
      expect(await asyncErrorCode(both.reveal(card.id))).toBe('card_vault_record_unreadable');
      await testDb.db.query('delete from cards_vault where id = $1', [card.id]);
    });
  });

  it('rotates: every record re-wrapped under k2 reveals with only k2 configured', async () => {
    // Drop the tampered records of the tests above: they are broken on purpose.
    const readable: { id: string; pan: string }[] = [];
    for (const row of await testDb.db.query<{ id: string }>('select id from cards_vault order by id')) {
      try {
        readable.push({ id: row.id, pan: (await vault.reveal(row.id)).pan });
      } catch {
        await testDb.db.query('delete from cards_vault where id = $1', [row.id]);
      }
    }
    for (let index = 0; index < 7; index += 1) {
      const pan = withCheckDigit(`411111111111${String(index).padStart(3, '0')}`);
      readable.push({ id: (await vault.store({ pan, expMonth: 1, expYear: 2027 })).id, pan });
    }
    expect(await vault.keysInUse()).toEqual(['k1']);

    const rotating = createVault({ db: testDb.db, keys: keysFor(`${k1},${k2}`, 'k2'), now: () => nowMs });
    const fresh = await rotating.store({ pan: '4000056655665556', expMonth: 2, expYear: 2030 });
    readable.push({ id: fresh.id, pan: '4000056655665556' });
    expect(await rotating.keysInUse()).toEqual(['k1', 'k2']);
    const ciphertextsBefore = await testDb.db.query<{ id: string; ciphertext: string }>(
      'select id, ciphertext from cards_vault order by id',
    );

    const report = await rotating.rewrapAll({ batchSize });
    expect(report.rewrappedCount).toBe(readable.length - 1);
    expect(report.remainingCount).toBe(0);
    expect(report.batchCount).toBeGreaterThanOrEqual(Math.ceil((readable.length - 1) / batchSize));
    expect(await rotating.keysInUse()).toEqual(['k2']);
    // Only the data keys change: the record ciphertexts are untouched.
    expect(await testDb.db.query('select id, ciphertext from cards_vault order by id')).toEqual(ciphertextsBefore);
    expect(await rotating.rewrapAll({ batchSize })).toEqual({ rewrappedCount: 0, batchCount: 1, remainingCount: 0 });

    const onlyK2 = createVault({ db: testDb.db, keys: keysFor(k2, 'k2'), now: () => nowMs });
    for (const card of readable) expect((await onlyK2.reveal(card.id)).pan).toBe(card.pan);
    expect(await asyncErrorCode(vault.reveal(readable[0]!.id))).toBe('card_vault_key_unknown');
    expect(await asyncErrorCode(rotating.rewrapAll({ batchSize: 0 }))).toBe('invalid_request');
  });

  it('keeps no card number and no CVC anywhere in the table', async () => {
    const cvcs = ['9817', '862'];
    const pans = ['378282246310005', '4242424242424242'];
    const onlyK2 = createVault({ db: testDb.db, keys: keysFor(k2, 'k2'), now: () => nowMs });
    for (const pan of pans) {
      // The CVC is checked and then dropped, as an authorization would.
      checkCvc(pan.startsWith('37') ? cvcs[0] : cvcs[1], checkPan(pan).brand);
      await onlyK2.store({ pan, expMonth: 9, expYear: 2032, cardholderName: 'Zhang San' });
    }
    const rows = await testDb.db.query<{ text: string }>('select row_to_json(t)::text as text from cards_vault t');
    expect(rows.length).toBeGreaterThan(10);
    const text = rows.map((row) => row.text).join('\n');
    expect(luhnValidDigitRuns(text)).toEqual([]);
    for (const pan of pans) expect(text).not.toContain(pan);
    for (const cvc of cvcs) expect(text).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${cvc}(?![0-9A-Za-z])`));
    expect(text).not.toContain('Zhang San');
    const columns = await testDb.db.query<{ name: string }>(
      "select column_name as name from information_schema.columns where table_name = 'cards_vault'",
    );
    expect(columns.map((column) => column.name).filter((name) => /cvc|cvv|cid|security/i.test(name))).toEqual([]);
  });
});
