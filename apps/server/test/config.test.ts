import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  adminTokenPath,
  configSpec,
  configVariables,
  loadConfig,
  resolveAdminToken,
  type Env,
} from '../src/platform/config.js';
import { helpLines, readmeRow, readmeTable } from '../src/platform/env-variables.js';
import { AppError } from '../src/platform/errors.js';
import { checkLimits, limits } from '../src/platform/limits.js';

function configError(env: Env): AppError {
  try {
    loadConfig(env, { cwd: '/srv/yunpay' });
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({}, { cwd: '/srv/yunpay' })).toEqual({
      port: 4000,
      host: '127.0.0.1',
      database: { kind: 'embedded' },
      dataDir: '/srv/yunpay/data',
      adminTokenFromEnv: null,
      role: 'all',
      logLevel: 'info',
      ledgerBatchSizeMax: limits.ledgerBatchSizeDefault,
      ledgerBatchesInFlightMax: limits.ledgerBatchesInFlightDefault,
      databasePoolSize: limits.databasePoolSizeDefault,
      walletLimitsJson: null,
      walletTestTopups: true,
      phoneRegion: 'CN',
      demoData: true,
      merchantFeeBasisPoints: 60,
      merchantFeeFixedMinor: {},
      webhookAllowPrivate: false,
      webDir: null,
      trustProxy: false,
      tls: { kind: 'off' },
      cardNetwork: {
        host: '127.0.0.1',
        port: 8583,
        requestTimeoutMs: limits.cardNetworkRequestTimeoutMsDefault,
        poolSize: limits.cardNetworkPoolSizeDefault,
      },
    });
  });

  it('reads every variable when valid', () => {
    const token = 'T'.repeat(limits.adminTokenLengthMin);
    const config = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATABASE_URL: 'postgresql://yunpay:secret@db.internal:5433/yunpay',
        YUNPAY_DATA_DIR: 'var/yunpay',
        YUNPAY_ADMIN_TOKEN: token,
        YUNPAY_ROLE: 'worker',
        LOG_LEVEL: 'debug',
        DATABASE_POOL_SIZE: '20',
        YUNPAY_LEDGER_BATCH_SIZE_MAX: '1000',
        YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX: String(limits.ledgerBatchesInFlightMax),
        YUNPAY_WALLET_LIMITS: '{"CNY":[]}',
        YUNPAY_WALLET_TEST_TOPUPS: 'false',
        YUNPAY_PHONE_REGION: 'hk',
        YUNPAY_DEMO_DATA: 'true',
        YUNPAY_MERCHANT_FEE_BPS: '250',
        YUNPAY_MERCHANT_FEE_FIXED: '{"cny":30,"JPY":0}',
        YUNPAY_WEBHOOK_ALLOW_PRIVATE: 'true',
        YUNPAY_WEB_DIR: 'web',
        YUNPAY_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
        YUNPAY_TLS_CERT_FILE: 'tls/cert.pem',
        YUNPAY_TLS_KEY_FILE: '/etc/yunpay/key.pem',
        YUNPAY_NETWORK_HOST: 'network.internal',
        YUNPAY_NETWORK_PORT: '9583',
        YUNPAY_NETWORK_TIMEOUT_MS: '2500',
        YUNPAY_NETWORK_POOL_SIZE: '4',
      },
      { cwd: '/srv/yunpay' },
    );
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      database: { kind: 'postgres', url: 'postgresql://yunpay:secret@db.internal:5433/yunpay' },
      dataDir: '/srv/yunpay/var/yunpay',
      adminTokenFromEnv: token,
      role: 'worker',
      logLevel: 'debug',
      ledgerBatchSizeMax: 1000,
      ledgerBatchesInFlightMax: limits.ledgerBatchesInFlightMax,
      databasePoolSize: 20,
      walletLimitsJson: '{"CNY":[]}',
      walletTestTopups: false,
      phoneRegion: 'HK',
      demoData: true,
      merchantFeeBasisPoints: 250,
      merchantFeeFixedMinor: { CNY: 30, JPY: 0 },
      webhookAllowPrivate: true,
      webDir: '/srv/yunpay/web',
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      tls: { kind: 'files', certFile: '/srv/yunpay/tls/cert.pem', keyFile: '/etc/yunpay/key.pem' },
      cardNetwork: { host: 'network.internal', port: 9583, requestTimeoutMs: 2500, poolSize: 4 },
    });
  });

  it('serves HTTPS with a generated certificate, or with both files, never half configured', () => {
    expect(loadConfig({ YUNPAY_TLS: 'self-signed' }).tls).toEqual({ kind: 'self-signed' });
    expect(loadConfig({ YUNPAY_TLS: 'off' }).tls).toEqual({ kind: 'off' });
    expect(() => loadConfig({ YUNPAY_TLS: 'on' })).toThrow(/YUNPAY_TLS must be one of off, self-signed/);
    expect(() => loadConfig({ YUNPAY_TLS_CERT_FILE: 'cert.pem' })).toThrow(
      /YUNPAY_TLS_CERT_FILE and YUNPAY_TLS_KEY_FILE must be set together/,
    );
    expect(() =>
      loadConfig({ YUNPAY_TLS: 'self-signed', YUNPAY_TLS_CERT_FILE: 'cert.pem', YUNPAY_TLS_KEY_FILE: 'key.pem' }),
    ).toThrow(/YUNPAY_TLS=self-signed generates a certificate/);
  });

  it('turns demo data on only for the embedded database unless told', () => {
    expect(loadConfig({}).demoData).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://127.0.0.1/x' }).demoData).toBe(false);
    expect(loadConfig({ YUNPAY_DEMO_DATA: 'false' }).demoData).toBe(false);
  });

  it('refuses wallet settings that are not understood', () => {
    expect(() => loadConfig({ YUNPAY_WALLET_LIMITS: '{not json' })).toThrow(/YUNPAY_WALLET_LIMITS must be JSON/);
    expect(() => loadConfig({ YUNPAY_WALLET_TEST_TOPUPS: 'yes' })).toThrow(/YUNPAY_WALLET_TEST_TOPUPS/);
    expect(() => loadConfig({ YUNPAY_PHONE_REGION: 'XX' })).toThrow(
      /YUNPAY_PHONE_REGION must be an ISO 3166 alpha-2 region/,
    );
    expect(() => loadConfig({ YUNPAY_PHONE_REGION: 'China' })).toThrow(/YUNPAY_PHONE_REGION/);
  });

  it('refuses merchant pricing that is not understood', () => {
    expect(() => loadConfig({ YUNPAY_MERCHANT_FEE_BPS: '10001' })).toThrow(/YUNPAY_MERCHANT_FEE_BPS/);
    expect(() => loadConfig({ YUNPAY_MERCHANT_FEE_FIXED: '{x' })).toThrow(/YUNPAY_MERCHANT_FEE_FIXED must be JSON/);
    expect(() => loadConfig({ YUNPAY_MERCHANT_FEE_FIXED: '{"XXX":1}' })).toThrow(/unknown currency/);
    expect(() => loadConfig({ YUNPAY_MERCHANT_FEE_FIXED: '{"CNY":-1}' })).toThrow(/YUNPAY_MERCHANT_FEE_FIXED.CNY/);
    expect(() => loadConfig({ YUNPAY_MERCHANT_FEE_FIXED: '[1]' })).toThrow(/JSON object/);
  });

  it('reads YUNPAY_TRUST_PROXY as off, a hop count, or a list of addresses and CIDR ranges', () => {
    expect(loadConfig({ YUNPAY_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ YUNPAY_TRUST_PROXY: ' ' }).trustProxy).toBe(false);
    expect(loadConfig({ YUNPAY_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ YUNPAY_TRUST_PROXY: String(limits.httpTrustProxyHopsMax) }).trustProxy).toBe(
      limits.httpTrustProxyHopsMax,
    );
    expect(loadConfig({ YUNPAY_TRUST_PROXY: '127.0.0.1' }).trustProxy).toEqual(['127.0.0.1']);
    expect(
      loadConfig({ YUNPAY_TRUST_PROXY: '10.0.0.0/8,192.168.0.0/16 , ::1, fd00::/8,loopback,uniquelocal' }).trustProxy,
    ).toEqual(['10.0.0.0/8', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback', 'uniquelocal']);
  });

  it('treats empty or blank variables as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ', YUNPAY_ROLE: '' }, { cwd: '/srv' });
    expect(config.port).toBe(4000);
    expect(config.database).toEqual({ kind: 'embedded' });
    expect(config.role).toBe('all');
  });

  it('accepts the bounds of every numeric variable', () => {
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ YUNPAY_LEDGER_BATCH_SIZE_MAX: '1' }).ledgerBatchSizeMax).toBe(1);
    expect(loadConfig({ YUNPAY_LEDGER_BATCH_SIZE_MAX: String(limits.ledgerBatchSizeMax) }).ledgerBatchSizeMax).toBe(
      limits.ledgerBatchSizeMax,
    );
    expect(loadConfig({ DATABASE_POOL_SIZE: String(limits.databasePoolSizeMax) }).databasePoolSize).toBe(
      limits.databasePoolSizeMax,
    );
  });

  const bad: { name: string; env: Env; mentions: string }[] = [
    { name: 'port not a number', env: { PORT: 'http' }, mentions: 'PORT must be an integer from 0 to 65535' },
    { name: 'port too big', env: { PORT: '65536' }, mentions: 'PORT must be an integer' },
    { name: 'port negative', env: { PORT: '-1' }, mentions: 'PORT must be an integer' },
    { name: 'port fractional', env: { PORT: '80.5' }, mentions: 'PORT must be an integer' },
    { name: 'host with a scheme', env: { HOST: 'http://localhost' }, mentions: 'HOST must be a host name' },
    {
      name: 'mysql url',
      env: { DATABASE_URL: 'mysql://root@localhost/db' },
      mentions: 'DATABASE_URL must start with postgres://',
    },
    { name: 'not a url', env: { DATABASE_URL: 'localhost:5432' }, mentions: 'DATABASE_URL' },
    {
      name: 'unknown role',
      env: { YUNPAY_ROLE: 'issuer' },
      mentions: 'YUNPAY_ROLE must be one of all, api, worker, network-sim',
    },
    {
      name: 'network port 0 outside roles all and network-sim',
      env: { YUNPAY_ROLE: 'api', YUNPAY_NETWORK_PORT: '0' },
      mentions: 'YUNPAY_NETWORK_PORT must name',
    },
    {
      name: 'network timeout out of range',
      env: { YUNPAY_NETWORK_TIMEOUT_MS: '1' },
      mentions: 'YUNPAY_NETWORK_TIMEOUT_MS must be an integer',
    },
    { name: 'unknown log level', env: { LOG_LEVEL: 'verbose' }, mentions: 'LOG_LEVEL must be one of' },
    { name: 'batch size 0', env: { YUNPAY_LEDGER_BATCH_SIZE_MAX: '0' }, mentions: 'YUNPAY_LEDGER_BATCH_SIZE_MAX' },
    { name: 'batch size too big', env: { YUNPAY_LEDGER_BATCH_SIZE_MAX: '8191' }, mentions: 'from 1 to 8190' },
    {
      name: 'in flight too big',
      env: { YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX: '999' },
      mentions: 'YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX',
    },
    { name: 'pool size 0', env: { DATABASE_POOL_SIZE: '0' }, mentions: 'DATABASE_POOL_SIZE' },
    { name: 'short admin token', env: { YUNPAY_ADMIN_TOKEN: 'hunter2' }, mentions: 'YUNPAY_ADMIN_TOKEN must be' },
    {
      name: 'admin token with a space',
      env: { YUNPAY_ADMIN_TOKEN: `${'a'.repeat(40)} b` },
      mentions: 'printable ASCII',
    },
    { name: 'trust proxy true', env: { YUNPAY_TRUST_PROXY: 'true' }, mentions: 'YUNPAY_TRUST_PROXY=true would let' },
    {
      name: 'trust proxy 0 hops',
      env: { YUNPAY_TRUST_PROXY: '0' },
      mentions: 'YUNPAY_TRUST_PROXY must be a hop count',
    },
    { name: 'trust proxy too many hops', env: { YUNPAY_TRUST_PROXY: '11' }, mentions: 'from 1 to 10' },
    {
      name: 'trust proxy host name',
      env: { YUNPAY_TRUST_PROXY: 'proxy.internal' },
      mentions: '"proxy.internal" is not',
    },
    { name: 'trust proxy prefix too long', env: { YUNPAY_TRUST_PROXY: '10.0.0.0/33' }, mentions: '"10.0.0.0/33"' },
    { name: 'trust proxy everyone (/0)', env: { YUNPAY_TRUST_PROXY: '0.0.0.0/0' }, mentions: '"0.0.0.0/0"' },
    { name: 'trust proxy everyone (IPv6 /0)', env: { YUNPAY_TRUST_PROXY: '::/0' }, mentions: '"::/0"' },
    { name: 'trust proxy empty entry', env: { YUNPAY_TRUST_PROXY: '10.0.0.1,,10.0.0.2' }, mentions: '"" is not' },
    { name: 'trust proxy bad address', env: { YUNPAY_TRUST_PROXY: '10.0.0.256' }, mentions: 'YUNPAY_TRUST_PROXY' },
    {
      name: 'trust proxy list too long',
      env: { YUNPAY_TRUST_PROXY: Array.from({ length: 33 }, (_, index) => `10.0.0.${index}`).join(',') },
      mentions: 'more than 32 addresses',
    },
    {
      name: 'pool no larger than batches in flight',
      env: { DATABASE_URL: 'postgres://h/db', DATABASE_POOL_SIZE: '2', YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX: '2' },
      mentions: 'DATABASE_POOL_SIZE (2) must be greater than YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX (2)',
    },
  ];
  for (const testCase of bad) {
    it(`rejects ${testCase.name} with config_invalid`, () => {
      const error = configError(testCase.env);
      expect(error.code).toBe('config_invalid');
      expect(error.message).toContain(testCase.mentions);
      expect(error.message).not.toContain('\n');
    });
  }

  it('lists every bad variable at once', () => {
    const error = configError({ PORT: 'x', YUNPAY_ROLE: 'boss', LOG_LEVEL: 'loud', DATABASE_URL: 'redis://h' });
    const problems = (error.details?.problems ?? []) as string[];
    expect(problems).toHaveLength(4);
    for (const name of ['PORT', 'YUNPAY_ROLE', 'LOG_LEVEL', 'DATABASE_URL']) expect(error.message).toContain(name);
  });

  it('never echoes the database URL or the admin token back', () => {
    const error = configError({ DATABASE_URL: 'mysql://root:pa55word@db/x', YUNPAY_ADMIN_TOKEN: 'tooshortsecret' });
    expect(error.message).not.toContain('pa55word');
    expect(error.message).not.toContain('tooshortsecret');
  });
});

describe('the configuration spec', () => {
  const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

  /** The cells of each row of the README's configuration table (the table under "## Configuration"). */
  function readmeRows(): string[][] {
    const readme = readFileSync(path.join(serverDir, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'));
    const lines = section.split('\n');
    const start = lines.findIndex((line) => line.startsWith('|'));
    const table = lines.slice(start, lines.indexOf('', start));
    return table.slice(2).map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }

  it('matches the README configuration table row for row', () => {
    const expected = configVariables.map(readmeRow);
    const hint = `README.md's configuration table must be (then run npm run format):\n${readmeTable(configVariables)}`;
    expect(readmeRows(), hint).toEqual(expected);
  });

  it('lists every variable in the help once, with its default', () => {
    const lines = helpLines(configVariables);
    expect(lines).toHaveLength(configVariables.length);
    expect(new Set(configVariables.map((variable) => variable.name)).size).toBe(configVariables.length);
    expect(lines[0]).toMatch(/^ {2}PORT +4000 +HTTP port \(0–65535; 0 picks a free one\)\.$/);
  });

  it('gives every integer its bounds, in range of its default, and in its description', () => {
    for (const spec of Object.values(configSpec)) {
      if (spec.kind !== 'integer') continue;
      expect(spec.description, spec.name).toContain('{range}');
      expect(spec.min, spec.name).toBeLessThanOrEqual(spec.defaultValue as number);
      expect(spec.defaultValue as number, spec.name).toBeLessThanOrEqual(spec.max ?? Number.NaN);
      expect(loadConfig({ [spec.name]: String(spec.max) })).toBeDefined();
      expect(() => loadConfig({ [spec.name]: String((spec.max ?? 0) + 1) })).toThrow(spec.name);
    }
  });

  it('documents every environment variable the server reads', () => {
    const names = new Set<string>();
    const walk = (directory: string): void => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const file = path.join(directory, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.ts')) {
          for (const match of readFileSync(file, 'utf8').matchAll(/\bYUNPAY_[A-Z_]*[A-Z]\b/g)) names.add(match[0]);
        }
      }
    };
    walk(path.join(serverDir, 'src'));
    expect(names.size).toBeGreaterThan(10);
    const documented = new Set(configVariables.map((variable) => variable.name));
    expect([...names].filter((name) => !documented.has(name))).toEqual([]);
  });
});

describe('resolveAdminToken', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  function tempDataDir(): string {
    const directory = mkdtempSync(path.join(tmpdir(), 'yunpay-config-'));
    directories.push(directory);
    return path.join(directory, 'nested', 'data');
  }

  it('generates a token once, keeps it with mode 0600, and reuses it', () => {
    const dataDir = tempDataDir();
    const first = resolveAdminToken({ dataDir, adminTokenFromEnv: null });
    expect(first.source).toBe('generated');
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(first.filePath).toBe(adminTokenPath(dataDir));
    expect(statSync(adminTokenPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(readFileSync(adminTokenPath(dataDir), 'utf8').trim()).toBe(first.token);

    const second = resolveAdminToken({ dataDir, adminTokenFromEnv: null });
    expect(second).toEqual({ token: first.token, source: 'file', filePath: first.filePath });

    const otherDir = tempDataDir();
    expect(resolveAdminToken({ dataDir: otherDir, adminTokenFromEnv: null }).token).not.toBe(first.token);
  });

  it('prefers YUNPAY_ADMIN_TOKEN and then writes nothing', () => {
    const dataDir = tempDataDir();
    const token = 'e'.repeat(limits.adminTokenLengthMin);
    expect(resolveAdminToken({ dataDir, adminTokenFromEnv: token })).toEqual({ token, source: 'env', filePath: null });
    expect(() => statSync(adminTokenPath(dataDir))).toThrow();
  });

  it('tightens a loosened file mode and refuses a damaged file', () => {
    const dataDir = tempDataDir();
    const { token } = resolveAdminToken({ dataDir, adminTokenFromEnv: null });
    chmodSync(adminTokenPath(dataDir), 0o644);
    expect(resolveAdminToken({ dataDir, adminTokenFromEnv: null }).token).toBe(token);
    expect(statSync(adminTokenPath(dataDir)).mode & 0o777).toBe(0o600);

    writeFileSync(adminTokenPath(dataDir), 'short\n');
    expect(() => resolveAdminToken({ dataDir, adminTokenFromEnv: null })).toThrow(/damaged/);
  });
});

describe('limits', () => {
  it('passes its own start-up check', () => {
    expect(() => checkLimits()).not.toThrow();
  });

  it('catches a broken table', () => {
    expect(() => checkLimits({ ...limits, httpBodyBytesMax: 0 })).toThrow(/httpBodyBytesMax/);
    expect(() => checkLimits({ ...limits, ledgerBatchSizeDefault: 9000 })).toThrow(/ledgerBatchSizeDefault/);
    expect(() => checkLimits({ ...limits, readinessCheckTimeoutMs: 60_000 })).toThrow(/readinessCheckTimeoutMs/);
  });
});
