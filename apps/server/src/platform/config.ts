import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { AppError } from './errors.js';
import { limits } from './limits.js';
import { isKnownCurrency } from './money.js';

export const roles = ['all', 'api', 'worker', 'network-sim'] as const;
export type Role = (typeof roles)[number];

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export type DatabaseConfig = { kind: 'postgres'; url: string } | { kind: 'embedded' };

/**
 * Whose X-Forwarded-For / -Proto / -Host the HTTP server believes (Fastify's trustProxy): nobody's
 * (false), the nearest N hops, or peers whose address is in a list of addresses and CIDR ranges.
 */
export type TrustProxy = false | number | readonly string[];

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  /** Absolute path: the embedded database and the generated admin token live here. */
  dataDir: string;
  /** YUNPAY_ADMIN_TOKEN when set; null means resolveAdminToken generates or reuses one in dataDir. */
  adminTokenFromEnv: string | null;
  role: Role;
  logLevel: LogLevel;
  ledgerBatchSizeMax: number;
  ledgerBatchesInFlightMax: number;
  databasePoolSize: number;
  /** YUNPAY_WALLET_LIMITS as given (JSON), or null for the built-in defaults; parsed by the wallets context. */
  walletLimitsJson: string | null;
  /** Accept test tokens (tok_visa, …) as top-up sources. */
  walletTestTopups: boolean;
  /** Create demo wallet users at start (default: on for the embedded database, off for PostgreSQL). */
  demoData: boolean;
  /** Default merchant pricing: basis points of each payment (60 = 0.6%). */
  merchantFeeBasisPoints: number;
  /** Default merchant pricing: fixed fee per payment by currency (upper-case ISO 4217), minor units. */
  merchantFeeFixedMinor: Readonly<Record<string, number>>;
  /** Allow webhook endpoints on loopback, private and link-local addresses (tests and labs only). */
  webhookAllowPrivate: boolean;
  /** The built web apps (wallet, POS, dashboard); null: apps/web/dist next to the server. */
  webDir: string | null;
  /** YUNPAY_TRUST_PROXY: the reverse proxies whose forwarding headers give request.ip and request.protocol. */
  trustProxy: TrustProxy;
  /** The card network: where the simulator listens (roles network-sim, all) and the gateway connects. */
  cardNetwork: {
    host: string;
    /** 0 in role `all`: the in-process simulator takes any free port and the gateway follows it. */
    port: number;
    requestTimeoutMs: number;
    poolSize: number;
  };
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One line per variable, shown by `yunpay help` and kept in step with the README table. */
export const configVariables: readonly { name: string; defaultValue: string; description: string }[] = [
  { name: 'PORT', defaultValue: '4000', description: 'HTTP port (0 picks a free one)' },
  { name: 'HOST', defaultValue: '127.0.0.1', description: 'address the HTTP server binds' },
  {
    name: 'DATABASE_URL',
    defaultValue: 'unset',
    description: 'postgres:// URL of the system of record; unset: embedded PGlite',
  },
  { name: 'YUNPAY_DATA_DIR', defaultValue: './data', description: 'embedded database and generated admin token' },
  {
    name: 'YUNPAY_ADMIN_TOKEN',
    defaultValue: 'generated',
    description: 'bearer token for /admin/v1; unset: generated once, kept in <data dir>/admin-token',
  },
  { name: 'YUNPAY_ROLE', defaultValue: 'all', description: 'all | api | worker | network-sim' },
  { name: 'LOG_LEVEL', defaultValue: 'info', description: logLevels.join(' | ') },
  {
    name: 'DATABASE_POOL_SIZE',
    defaultValue: String(limits.databasePoolSizeDefault),
    description: `PostgreSQL connections per process (1-${limits.databasePoolSizeMax})`,
  },
  {
    name: 'YUNPAY_LEDGER_BATCH_SIZE_MAX',
    defaultValue: String(limits.ledgerBatchSizeDefault),
    description: `transfers per ledger transaction (1-${limits.ledgerBatchSizeMax})`,
  },
  {
    name: 'YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX',
    defaultValue: String(limits.ledgerBatchesInFlightDefault),
    description: `ledger batches applied at once (1-${limits.ledgerBatchesInFlightMax})`,
  },
  {
    name: 'YUNPAY_WALLET_LIMITS',
    defaultValue: 'built-in',
    description: 'JSON: per currency, three KYC tiers of {per_payment, daily, monthly, balance} in minor units',
  },
  {
    name: 'YUNPAY_WALLET_TEST_TOPUPS',
    defaultValue: 'true',
    description: 'true | false: accept test tokens (tok_visa, tok_chargeDeclined, ...) as top-up sources',
  },
  {
    name: 'YUNPAY_DEMO_DATA',
    defaultValue: 'embedded only',
    description: 'true | false: create two demo wallet users at start (printed in the banner)',
  },
  {
    name: 'YUNPAY_MERCHANT_FEE_BPS',
    defaultValue: '60',
    description: `default merchant fee in basis points of each payment (0-${limits.merchantFeeBasisPointsMax}; 60 = 0.6%)`,
  },
  {
    name: 'YUNPAY_MERCHANT_FEE_FIXED',
    defaultValue: '{}',
    description: 'JSON: default fixed merchant fee per payment by currency in minor units, e.g. {"CNY":30}',
  },
  {
    name: 'YUNPAY_WEBHOOK_ALLOW_PRIVATE',
    defaultValue: 'false',
    description: 'true | false: allow webhook URLs resolving to loopback, private or link-local addresses',
  },
  {
    name: 'YUNPAY_WEB_DIR',
    defaultValue: 'apps/web/dist',
    description: 'the built web apps served at /app/, /pos/ and /dashboard/ (npm run build makes them)',
  },
  {
    name: 'YUNPAY_TRUST_PROXY',
    defaultValue: 'false',
    description: `reverse proxies whose X-Forwarded-For/-Proto/-Host are believed: a hop count (1-${limits.httpTrustProxyHopsMax}) or IPs/CIDRs, e.g. 10.0.0.0/8,127.0.0.1`,
  },
  {
    name: 'YUNPAY_NETWORK_HOST',
    defaultValue: '127.0.0.1',
    description: 'card network (ISO 8583 over TCP): where the simulator listens and the gateway connects',
  },
  {
    name: 'YUNPAY_NETWORK_PORT',
    defaultValue: '8583',
    description: 'card network TCP port (0 in role all: any free port)',
  },
  {
    name: 'YUNPAY_NETWORK_TIMEOUT_MS',
    defaultValue: String(limits.cardNetworkRequestTimeoutMsDefault),
    description: `card network answer timeout before a reversal (${limits.cardNetworkRequestTimeoutMsMin}-${limits.cardNetworkRequestTimeoutMsMax})`,
  },
  {
    name: 'YUNPAY_NETWORK_POOL_SIZE',
    defaultValue: String(limits.cardNetworkPoolSizeDefault),
    description: `card network TCP connections per process (1-${limits.cardNetworkPoolSizeMax})`,
  },
  {
    name: 'YUNPAY_VAULT_KEYS',
    defaultValue: 'generated',
    description:
      'card vault key-encryption keys id:base64[,id:base64] (32 bytes each); unset: generated once in <data dir>/vault-keys.json',
  },
  { name: 'YUNPAY_VAULT_KEY_ID', defaultValue: 'first key', description: 'id of the current card vault key' },
  {
    name: 'YUNPAY_VAULT_FINGERPRINT_KEY',
    defaultValue: 'generated',
    description: 'id:base64 key of the card fingerprint HMAC (required with YUNPAY_VAULT_KEYS)',
  },
  {
    name: 'YUNPAY_VAULT_KEYS_FILE',
    defaultValue: '<data dir>/vault-keys.json',
    description: 'JSON key file used when YUNPAY_VAULT_KEYS is unset (mode 0600)',
  },
];

interface Problems {
  list: string[];
}

function readText(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function readInteger(
  env: Env,
  problems: Problems,
  options: { name: string; defaultValue: number; min: number; max: number },
): number {
  const text = readText(env, options.name);
  if (text === undefined) return options.defaultValue;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < options.min || value > options.max) {
    problems.list.push(`${options.name} must be an integer from ${options.min} to ${options.max} (got "${text}")`);
    return options.defaultValue;
  }
  return value;
}

function readChoice<T extends string>(
  env: Env,
  problems: Problems,
  options: { name: string; choices: readonly T[]; defaultValue: T },
): T {
  const text = readText(env, options.name);
  if (text === undefined) return options.defaultValue;
  const choice = options.choices.find((candidate) => candidate === text);
  if (choice === undefined) {
    problems.list.push(`${options.name} must be one of ${options.choices.join(', ')} (got "${text}")`);
    return options.defaultValue;
  }
  return choice;
}

/** YUNPAY_MERCHANT_FEE_FIXED: {"CNY": 30, "usd": 0} → upper-case known currencies, safe non-negative integers. */
export function parseMerchantFeeFixed(text: string): { value: Record<string, number> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'YUNPAY_MERCHANT_FEE_FIXED must be JSON such as {"CNY":30}' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { problem: 'YUNPAY_MERCHANT_FEE_FIXED must be a JSON object of currency to minor units' };
  }
  const value: Record<string, number> = {};
  for (const [currency, amount] of Object.entries(parsed)) {
    const code = currency.toUpperCase();
    if (!isKnownCurrency(code)) return { problem: `YUNPAY_MERCHANT_FEE_FIXED names an unknown currency "${currency}"` };
    if (
      !Number.isSafeInteger(amount) ||
      (amount as number) < 0 ||
      (amount as number) > limits.merchantFeeFixedMinorMax
    ) {
      return {
        problem: `YUNPAY_MERCHANT_FEE_FIXED.${currency} must be an integer from 0 to ${limits.merchantFeeFixedMinorMax} (minor units)`,
      };
    }
    value[code] = amount as number;
  }
  return { value };
}

function readDatabase(env: Env, problems: Problems): DatabaseConfig {
  const text = readText(env, 'DATABASE_URL');
  if (text === undefined) return { kind: 'embedded' };
  // Never echo the URL back: it may hold a password.
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    problems.list.push('DATABASE_URL is not a valid URL (expected postgres://user@host:5432/database)');
    return { kind: 'embedded' };
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.list.push(`DATABASE_URL must start with postgres:// or postgresql:// (got ${parsed.protocol}//)`);
    return { kind: 'embedded' };
  }
  if (parsed.hostname === '') {
    problems.list.push('DATABASE_URL has no host');
    return { kind: 'embedded' };
  }
  return { kind: 'postgres', url: text };
}

function readHostNamed(env: Env, problems: Problems, name: string): string {
  const text = readText(env, name);
  if (text === undefined) return '127.0.0.1';
  // A host name, an IPv4 address or an IPv6 address; no scheme, port or path.
  if (text.length > 253 || !/^[A-Za-z0-9.:-]+$/.test(text)) {
    problems.list.push(`${name} must be a host name or IP address such as 127.0.0.1 or 0.0.0.0 (got "${text}")`);
    return '127.0.0.1';
  }
  return text;
}

function readHost(env: Env, problems: Problems): string {
  return readHostNamed(env, problems, 'HOST');
}

/** Names proxy-addr (Fastify's trustProxy) knows for whole ranges. */
const trustProxyRangeNames = ['loopback', 'linklocal', 'uniquelocal'];

/** An IPv4 or IPv6 address, with an optional /prefix that is not /0 (which would trust everyone). */
function isProxyAddress(entry: string): boolean {
  if (trustProxyRangeNames.includes(entry)) return true;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return false;
  if (slash === -1) return true;
  const prefix = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) >= 1 && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * YUNPAY_TRUST_PROXY: unset or `false` trusts nobody, so X-Forwarded-* from any client is ignored.
 * `true` (everybody) is refused: anyone could then choose their own IP for the per-IP rate limits.
 */
export function parseTrustProxy(text: string): { value: TrustProxy } | { problem: string } {
  const expected = `a hop count from 1 to ${limits.httpTrustProxyHopsMax}, or a comma-separated list of the proxies' IP addresses or CIDR ranges such as 10.0.0.0/8,127.0.0.1`;
  if (text === 'false') return { value: false };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (!Number.isSafeInteger(hops) || hops < 1 || hops > limits.httpTrustProxyHopsMax) {
      return { problem: `YUNPAY_TRUST_PROXY must be ${expected} (got "${text}")` };
    }
    return { value: hops };
  }
  if (text === 'true') {
    return {
      problem: `YUNPAY_TRUST_PROXY=true would let any client choose its own IP address: use ${expected}`,
    };
  }
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.length > limits.httpTrustProxyAddressesMax) {
    return { problem: `YUNPAY_TRUST_PROXY lists more than ${limits.httpTrustProxyAddressesMax} addresses` };
  }
  const wrong = entries.find((entry) => !isProxyAddress(entry));
  if (wrong !== undefined) {
    return {
      problem: `YUNPAY_TRUST_PROXY must be ${expected} ("${wrong.slice(0, 64)}" is not an IP address or CIDR range)`,
    };
  }
  return { value: entries };
}

function readTrustProxy(env: Env, problems: Problems): TrustProxy {
  const text = readText(env, 'YUNPAY_TRUST_PROXY');
  if (text === undefined) return false;
  const parsed = parseTrustProxy(text);
  if ('problem' in parsed) {
    problems.list.push(parsed.problem);
    return false;
  }
  return parsed.value;
}

function readAdminToken(env: Env, problems: Problems): string | null {
  const value = env.YUNPAY_ADMIN_TOKEN;
  if (value === undefined || value === '') return null;
  // The token itself is never echoed, only what is wrong with it.
  if (!/^[\x21-\x7e]+$/.test(value)) {
    problems.list.push('YUNPAY_ADMIN_TOKEN must be printable ASCII with no spaces');
    return null;
  }
  if (value.length < limits.adminTokenLengthMin || value.length > limits.adminTokenLengthMax) {
    problems.list.push(
      `YUNPAY_ADMIN_TOKEN must be ${limits.adminTokenLengthMin} to ${limits.adminTokenLengthMax} characters long (got ${value.length}); unset it to have one generated`,
    );
    return null;
  }
  return value;
}

/**
 * Turns an environment into a validated Config. Pure: reads only `env` (and `cwd` to resolve a
 * relative data dir). Every bad variable is reported at once in one config_invalid error.
 */
export function loadConfig(env: Env, options: { cwd?: string } = {}): Config {
  const problems: Problems = { list: [] };
  const port = readInteger(env, problems, { name: 'PORT', defaultValue: 4000, min: 0, max: 65_535 });
  const host = readHost(env, problems);
  const database = readDatabase(env, problems);
  const dataDir = path.resolve(options.cwd ?? process.cwd(), readText(env, 'YUNPAY_DATA_DIR') ?? './data');
  const adminTokenFromEnv = readAdminToken(env, problems);
  const role = readChoice(env, problems, { name: 'YUNPAY_ROLE', choices: roles, defaultValue: 'all' });
  const logLevel = readChoice(env, problems, { name: 'LOG_LEVEL', choices: logLevels, defaultValue: 'info' });
  const databasePoolSize = readInteger(env, problems, {
    name: 'DATABASE_POOL_SIZE',
    defaultValue: limits.databasePoolSizeDefault,
    min: 1,
    max: limits.databasePoolSizeMax,
  });
  const ledgerBatchSizeMax = readInteger(env, problems, {
    name: 'YUNPAY_LEDGER_BATCH_SIZE_MAX',
    defaultValue: limits.ledgerBatchSizeDefault,
    min: 1,
    max: limits.ledgerBatchSizeMax,
  });
  const ledgerBatchesInFlightMax = readInteger(env, problems, {
    name: 'YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX',
    defaultValue: limits.ledgerBatchesInFlightDefault,
    min: 1,
    max: limits.ledgerBatchesInFlightMax,
  });
  const walletLimitsJson = readText(env, 'YUNPAY_WALLET_LIMITS') ?? null;
  if (walletLimitsJson !== null) {
    try {
      JSON.parse(walletLimitsJson);
    } catch {
      problems.list.push('YUNPAY_WALLET_LIMITS must be JSON (see the README)');
    }
  }
  const walletTestTopups =
    readChoice(env, problems, {
      name: 'YUNPAY_WALLET_TEST_TOPUPS',
      choices: ['true', 'false'],
      defaultValue: 'true',
    }) === 'true';
  const demoDataChoice = readChoice(env, problems, {
    name: 'YUNPAY_DEMO_DATA',
    choices: ['true', 'false', 'default'],
    defaultValue: 'default',
  });
  const demoData = demoDataChoice === 'default' ? database.kind === 'embedded' : demoDataChoice === 'true';
  const merchantFeeBasisPoints = readInteger(env, problems, {
    name: 'YUNPAY_MERCHANT_FEE_BPS',
    defaultValue: 60,
    min: 0,
    max: limits.merchantFeeBasisPointsMax,
  });
  let merchantFeeFixedMinor: Record<string, number> = {};
  const feeFixedText = readText(env, 'YUNPAY_MERCHANT_FEE_FIXED');
  if (feeFixedText !== undefined) {
    const fixed = parseMerchantFeeFixed(feeFixedText);
    if ('problem' in fixed) problems.list.push(fixed.problem);
    else merchantFeeFixedMinor = fixed.value;
  }
  const webhookAllowPrivate =
    readChoice(env, problems, {
      name: 'YUNPAY_WEBHOOK_ALLOW_PRIVATE',
      choices: ['true', 'false'],
      defaultValue: 'false',
    }) === 'true';
  const webDirText = readText(env, 'YUNPAY_WEB_DIR');
  const webDir = webDirText === undefined ? null : path.resolve(options.cwd ?? process.cwd(), webDirText);
  const trustProxy = readTrustProxy(env, problems);
  const cardNetwork = {
    host: readHostNamed(env, problems, 'YUNPAY_NETWORK_HOST'),
    port: readInteger(env, problems, { name: 'YUNPAY_NETWORK_PORT', defaultValue: 8583, min: 0, max: 65_535 }),
    requestTimeoutMs: readInteger(env, problems, {
      name: 'YUNPAY_NETWORK_TIMEOUT_MS',
      defaultValue: limits.cardNetworkRequestTimeoutMsDefault,
      min: limits.cardNetworkRequestTimeoutMsMin,
      max: limits.cardNetworkRequestTimeoutMsMax,
    }),
    poolSize: readInteger(env, problems, {
      name: 'YUNPAY_NETWORK_POOL_SIZE',
      defaultValue: limits.cardNetworkPoolSizeDefault,
      min: 1,
      max: limits.cardNetworkPoolSizeMax,
    }),
  };
  if (cardNetwork.port === 0 && (role === 'api' || role === 'worker')) {
    problems.list.push(
      "YUNPAY_NETWORK_PORT must name the network simulator's port in role api or worker (0 only works in role all or network-sim)",
    );
  }
  if (database.kind === 'postgres' && databasePoolSize <= ledgerBatchesInFlightMax) {
    // Each batch in flight holds a connection; the API needs at least one more.
    problems.list.push(
      `DATABASE_POOL_SIZE (${databasePoolSize}) must be greater than YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX (${ledgerBatchesInFlightMax})`,
    );
  }
  if (problems.list.length > 0) {
    throw new AppError('config_invalid', {
      message: `Invalid configuration: ${problems.list.join('; ')}.`,
      details: { problems: problems.list },
    });
  }
  return {
    port,
    host,
    database,
    dataDir,
    adminTokenFromEnv,
    role,
    logLevel,
    ledgerBatchSizeMax,
    ledgerBatchesInFlightMax,
    databasePoolSize,
    walletLimitsJson,
    walletTestTopups,
    demoData,
    merchantFeeBasisPoints,
    merchantFeeFixedMinor,
    webhookAllowPrivate,
    webDir,
    trustProxy,
    cardNetwork,
  };
}

export type AdminTokenSource = 'env' | 'file' | 'generated';

export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, 'admin-token');
}

const generatedTokenPattern = /^[A-Za-z0-9_-]+$/;

/**
 * The admin bearer token: YUNPAY_ADMIN_TOKEN when set; otherwise the one kept in
 * <dataDir>/admin-token (mode 0600), generated on first use.
 */
export function resolveAdminToken(config: Pick<Config, 'dataDir' | 'adminTokenFromEnv'>): {
  token: string;
  source: AdminTokenSource;
  filePath: string | null;
} {
  if (config.adminTokenFromEnv !== null) return { token: config.adminTokenFromEnv, source: 'env', filePath: null };
  const filePath = adminTokenPath(config.dataDir);
  let existing: string | null = null;
  try {
    existing = readFileSync(filePath, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== null) {
    if (existing.length < limits.adminTokenLengthMin || !generatedTokenPattern.test(existing)) {
      throw new AppError('config_invalid', {
        message: `The admin token file ${filePath} is damaged. Delete it to have a new token generated.`,
      });
    }
    // Tighten permissions in case the file was copied around with a looser mode.
    if ((statSync(filePath).mode & 0o077) !== 0) chmodSync(filePath, 0o600);
    return { token: existing, source: 'file', filePath };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const token = randomBytes(limits.adminTokenBytes).toString('base64url');
  try {
    // 'wx': never overwrite a token another process wrote meanwhile; use theirs instead.
    writeFileSync(filePath, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return resolveAdminToken(config);
  }
  return { token, source: 'generated', filePath };
}
