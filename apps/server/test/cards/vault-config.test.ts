import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCardsRewrap } from '../../src/modules/cards/methods/index.js';
import {
  cardVaultMigrations,
  createVault,
  describeVaultKeys,
  loadVaultKeysFromEnv,
  vaultKeysPath,
  type VaultKeyFile,
  type VaultKeys,
} from '../../src/modules/cards/vault/index.js';
import { AppError } from '../../src/platform/errors.js';
import { openTestDb, type TestDb } from '../support/db.js';

const key = () => randomBytes(32).toString('base64');
const cardExpiryYear = new Date().getUTCFullYear() + 2;

function configError(load: () => unknown): AppError {
  try {
    load();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected config_invalid');
}

/** Every 32-byte key's base64 and raw forms that an error or output line must not contain. */
function expectNoKeyMaterial(text: string, keys: string[]): void {
  for (const material of keys) {
    expect(text).not.toContain(material);
    expect(text).not.toContain(material.slice(0, 12));
  }
}

describe('vault key configuration', () => {
  const directories: string[] = [];
  const newDataDir = () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'yunpay-vault-keys-'));
    directories.push(directory);
    return directory;
  };
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  it('reads the three environment variables', () => {
    const [k1, k2, f1] = [key(), key(), key()];
    const loaded = loadVaultKeysFromEnv(
      {
        YUNPAY_VAULT_KEYS: `k1:${k1}, k2:${k2}`,
        YUNPAY_VAULT_KEY_ID: 'k2',
        YUNPAY_VAULT_FINGERPRINT_KEY: `f1:${f1}`,
      },
      newDataDir(),
    );
    expect(loaded.source).toBe('env');
    expect(loaded.filePath).toBeNull();
    expect(describeVaultKeys(loaded.keys)).toEqual({
      currentEncryptionKeyId: 'k2',
      encryptionKeyIds: ['k1', 'k2'],
      fingerprintKeyId: 'f1',
    });
    expect(loaded.keys.encryption.keys.get('k1')?.reveal().toString('base64')).toBe(k1);
    expect(loaded.keys.fingerprint.current.reveal().toString('base64')).toBe(f1);
    expect(JSON.stringify(describeVaultKeys(loaded.keys))).not.toContain(k1);
  });

  it.each([
    ['a key that is too short', { YUNPAY_VAULT_KEYS: 'k1:c2hvcnQ=' }, 'YUNPAY_VAULT_KEYS'],
    ['a key that is not base64', { YUNPAY_VAULT_KEYS: `k1:${key().replace(/.$/, '!')}` }, 'YUNPAY_VAULT_KEYS'],
    ['a current id not in the list', { YUNPAY_VAULT_KEY_ID: 'k9' }, 'k9'],
    ['two fingerprint keys', { YUNPAY_VAULT_FINGERPRINT_KEY: `f1:${key()},f2:${key()}` }, 'exactly one'],
    ['a fingerprint key without an id', { YUNPAY_VAULT_FINGERPRINT_KEY: key() }, 'id:base64'],
    ['a missing variable', { YUNPAY_VAULT_KEY_ID: undefined }, 'missing: YUNPAY_VAULT_KEY_ID'],
    ['a key file as well', { YUNPAY_VAULT_KEYS_FILE: '/etc/yunpay/keys.json' }, 'not both'],
  ])('refuses %s with config_invalid, never echoing the key', (_name, change, expected) => {
    const material = [key(), key()];
    const env: Record<string, string | undefined> = {
      YUNPAY_VAULT_KEYS: `k1:${material[0]}`,
      YUNPAY_VAULT_KEY_ID: 'k1',
      YUNPAY_VAULT_FINGERPRINT_KEY: `f1:${material[1]}`,
      ...change,
    };
    const error = configError(() => loadVaultKeysFromEnv(env, newDataDir()));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(expected);
    expectNoKeyMaterial(`${error.message} ${JSON.stringify(error.details ?? {})} ${String(error.cause)}`, [
      ...material,
      ...Object.values(change).filter((value): value is string => value !== undefined && value.length > 20),
    ]);
  });

  it('refuses the same key as encryption and fingerprint key', () => {
    const shared = key();
    const error = configError(() =>
      loadVaultKeysFromEnv(
        { YUNPAY_VAULT_KEYS: `k1:${shared}`, YUNPAY_VAULT_KEY_ID: 'k1', YUNPAY_VAULT_FINGERPRINT_KEY: `f1:${shared}` },
        newDataDir(),
      ),
    );
    expect(error.message).toContain('is the same as encryption key k1');
    expectNoKeyMaterial(error.message, [shared]);
  });

  it('generates a private key file on first use and reads the same keys afterwards', () => {
    const dataDir = path.join(newDataDir(), 'nested');
    const generated = loadVaultKeysFromEnv({}, dataDir);
    expect(generated.source).toBe('generated');
    expect(generated.filePath).toBe(vaultKeysPath(dataDir));
    const filePath = vaultKeysPath(dataDir);
    expect(statSync(filePath).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(filePath, 'utf8')) as VaultKeyFile;
    expect(file.version).toBe(1);
    expect(file.encryption.current).toMatch(/^kek-\d{8}-[0-9A-Za-z]{8}$/);
    expect(file.fingerprint.current).toMatch(/^fp-\d{8}-[0-9A-Za-z]{8}$/);
    const refused = configError(() => loadVaultKeysFromEnv({}, newDataDir(), { generate: false }));
    expect(refused.message).toContain('No vault keys are configured');
    const again = loadVaultKeysFromEnv({}, dataDir, { generate: false });
    expect(again.source).toBe('file');
    expect(describeVaultKeys(again.keys)).toEqual(describeVaultKeys(generated.keys));
    expect(again.keys.encryption.current.reveal().equals(generated.keys.encryption.current.reveal())).toBe(true);
    expect(again.keys.fingerprint.current.reveal().equals(generated.keys.fingerprint.current.reveal())).toBe(true);
    // Another data directory gets other keys and other ids.
    const elsewhere = loadVaultKeysFromEnv({}, newDataDir());
    expect(elsewhere.keys.encryption.currentId).not.toBe(generated.keys.encryption.currentId);
  });

  it('refuses a key file others can read, and a damaged one, without echoing its keys', () => {
    const dataDir = newDataDir();
    const generated = loadVaultKeysFromEnv({}, dataDir);
    const filePath = generated.filePath ?? '';
    const file = JSON.parse(readFileSync(filePath, 'utf8')) as VaultKeyFile;
    const material = [...Object.values(file.encryption.keys), ...Object.values(file.fingerprint.keys)];
    chmodSync(filePath, 0o644);
    const readable = configError(() => loadVaultKeysFromEnv({}, dataDir));
    expect(readable.code).toBe('config_invalid');
    expect(readable.message).toContain('mode 0644');
    chmodSync(filePath, 0o600);
    expect(loadVaultKeysFromEnv({}, dataDir).source).toBe('file');
    // Damaged JSON whose parse error would quote the text around the fault (the key).
    writeFileSync(filePath, readFileSync(filePath, 'utf8').replace('"version": 1', '"version": 1,,'), { mode: 0o600 });
    const damaged = configError(() => loadVaultKeysFromEnv({}, dataDir));
    expect(damaged.message).toContain('not valid JSON');
    expect(damaged.cause).toBeUndefined();
    expectNoKeyMaterial(`${readable.message} ${damaged.message}`, material);
    const badKey: VaultKeyFile = {
      ...file,
      encryption: { current: file.encryption.current, keys: { [file.encryption.current]: 'bm90IGEga2V5' } },
    };
    writeFileSync(filePath, JSON.stringify(badKey), { mode: 0o600 });
    const invalidKey = configError(() => loadVaultKeysFromEnv({}, dataDir));
    expect(invalidKey.message).toContain(`"encryption": Vault key ${file.encryption.current} is not 32 bytes`);
    expect(invalidKey.message).not.toContain('bm90IGEga2V5');
  });

  it('reads YUNPAY_VAULT_KEYS_FILE, and refuses one that does not exist instead of generating keys there', () => {
    const dataDir = newDataDir();
    const missing = path.join(dataDir, 'elsewhere.json');
    const error = configError(() => loadVaultKeysFromEnv({ YUNPAY_VAULT_KEYS_FILE: missing }, dataDir));
    expect(error.message).toContain('does not exist');
    const file: VaultKeyFile = {
      version: 1,
      encryption: { current: 'k2', keys: { k1: key(), k2: key() } },
      fingerprint: { current: 'f1', keys: { f1: key() } },
    };
    writeFileSync(missing, JSON.stringify(file), { mode: 0o600 });
    const loaded = loadVaultKeysFromEnv({ YUNPAY_VAULT_KEYS_FILE: missing }, dataDir);
    expect(loaded).toMatchObject({ source: 'file', filePath: missing });
    expect(describeVaultKeys(loaded.keys)).toEqual({
      currentEncryptionKeyId: 'k2',
      encryptionKeyIds: ['k1', 'k2'],
      fingerprintKeyId: 'f1',
    });
  });
});

describe('yunpay cards rewrap', () => {
  let testDb: TestDb;

  beforeAll(async () => {
    testDb = await openTestDb({ migrations: cardVaultMigrations });
  });
  afterAll(async () => {
    await testDb.dispose();
  });

  function keyring(encryption: Record<string, string>, currentId: string, fingerprint: string): VaultKeys {
    const loaded = loadVaultKeysFromEnv(
      {
        YUNPAY_VAULT_KEYS: Object.entries(encryption)
          .map(([id, material]) => `${id}:${material}`)
          .join(','),
        YUNPAY_VAULT_KEY_ID: currentId,
        YUNPAY_VAULT_FINGERPRINT_KEY: `fp1:${fingerprint}`,
      },
      '/nonexistent',
    );
    return loaded.keys;
  }

  it('moves every card to a new current key, leaving keysInUse = [new id], and prints no key material', async () => {
    const [old, next, fingerprint] = [key(), key(), key()];
    const before = keyring({ old }, 'old', fingerprint);
    const vault = createVault({ db: testDb.db, keys: before });
    const stored = [];
    for (const pan of [
      '4242424242424242',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '4111111111111111',
    ]) {
      stored.push(await vault.store({ pan, expMonth: 6, expYear: cardExpiryYear }));
    }
    expect(await vault.keysInUse()).toEqual(['old']);

    // Rotation: the new key is added and made current, the old one stays until the rewrap is done.
    const rotated = keyring({ old, next }, 'next', fingerprint);
    const lines: string[] = [];
    const report = await runCardsRewrap({
      db: testDb.db,
      keys: rotated,
      out: (line) => lines.push(line),
      batchSize: 2,
    });
    expect(report).toEqual({ rewrappedCount: 5, batchCount: 3, remainingCount: 0, keysInUse: ['next'] });
    expect(lines.join('\n')).toContain('Keys in use: next.');
    expect(lines.join('\n')).toContain('No stored card needs old any more');
    expectNoKeyMaterial(lines.join('\n'), [old, next, fingerprint]);

    // The old key can now go: every card opens with the new one alone.
    const after = createVault({ db: testDb.db, keys: keyring({ next }, 'next', fingerprint) });
    for (const card of stored) expect((await after.reveal(card.id)).brand).toBe(card.brand);
    const second = await runCardsRewrap({ db: testDb.db, keys: rotated, out: () => {} });
    expect(second).toMatchObject({ rewrappedCount: 0, remainingCount: 0, keysInUse: ['next'] });
  });
});
