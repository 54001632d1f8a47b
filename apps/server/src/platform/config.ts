import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js/max';
import {
  booleanVariable,
  code,
  enumVariable,
  integerVariable,
  parsedVariable,
  readVariables,
  type Env,
  type Parsed,
  type VariableDoc,
} from './env-variables.js';
import { AppError } from './errors.js';
import { limits } from './limits.js';
import { isKnownCurrency } from './money.js';

export type { Env } from './env-variables.js';

export const roles = ['all', 'api', 'worker', 'network-sim'] as const;
export const tlsModes = ['off', 'self-signed'] as const;

/** How the HTTP server serves: plain HTTP, HTTPS with a generated certificate, or with the operator's. */
export type TlsConfig =
  { kind: 'off' } | { kind: 'self-signed' } | { kind: 'files'; certFile: string; keyFile: string };
export type Role = (typeof roles)[number];

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export type DatabaseConfig = { kind: 'postgres'; url: string } | { kind: 'embedded' };

/**
 * Whose X-Forwarded-For / -Proto / -Host the HTTP server believes (Fastify's trustProxy): nobody's
 * (false), the nearest N hops, or peers whose address is in a list of addresses and CIDR ranges.
 */
export type TrustProxy = false | number | readonly string[];

/**
 * Default merchant pricing, the one source: YUNPAY_MERCHANT_FEE_BPS and YUNPAY_MERCHANT_FEE_FIXED
 * default to it, and createServices falls back to it when given no pricing.
 */
export const merchantPricingDefault: {
  readonly merchantFeeBasisPoints: number;
  readonly merchantFeeFixedMinor: Readonly<Record<string, number>>;
} = Object.freeze({ merchantFeeBasisPoints: 60, merchantFeeFixedMinor: Object.freeze({}) });

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
  /** ISO 3166 alpha-2 region national phone numbers are read in (13800000001 in CN is +8613800000001). */
  phoneRegion: string;
  /** Create demo wallet users at start (default: on for the embedded database, off for PostgreSQL). */
  demoData: boolean;
  /** Default merchant pricing: basis points of each payment (100 = 1 %). */
  merchantFeeBasisPoints: number;
  /** Default merchant pricing: fixed fee per payment by currency (upper-case ISO 4217), minor units. */
  merchantFeeFixedMinor: Readonly<Record<string, number>>;
  /** Allow webhook endpoints on loopback, private and link-local addresses (tests and labs only). */
  webhookAllowPrivate: boolean;
  /** The built web apps (wallet, POS, dashboard); null: apps/web/dist next to the server. */
  webDir: string | null;
  /** YUNPAY_TRUST_PROXY: the reverse proxies whose forwarding headers give request.ip and request.protocol. */
  trustProxy: TrustProxy;
  /** HTTPS: YUNPAY_TLS, YUNPAY_TLS_CERT_FILE and YUNPAY_TLS_KEY_FILE (files resolved against cwd). */
  tls: TlsConfig;
  /** The card network: where the simulator listens (roles network-sim, all) and the gateway connects. */
  cardNetwork: {
    host: string;
    /** 0 in role `all`: the in-process simulator takes any free port and the gateway follows it. */
    port: number;
    requestTimeoutMs: number;
    poolSize: number;
  };
}

/** `a`, `b` or `c`. */
function choiceList(choices: readonly string[]): string {
  const shown = choices.map(code);
  return `${shown.slice(0, -1).join(', ')} or ${shown.at(-1) ?? ''}`;
}

function parseDatabaseUrl(text: string): Parsed<DatabaseConfig> {
  // Never echo the URL back: it may hold a password.
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { problem: 'DATABASE_URL is not a valid URL (expected postgres://user@host:5432/database)' };
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return { problem: `DATABASE_URL must start with postgres:// or postgresql:// (got ${parsed.protocol}//)` };
  }
  if (parsed.hostname === '') return { problem: 'DATABASE_URL has no host' };
  return { value: { kind: 'postgres', url: text } };
}

function hostParser(name: string): (text: string) => Parsed<string> {
  return (text) => {
    // A host name, an IPv4 address or an IPv6 address; no scheme, port or path.
    if (text.length > 253 || !/^[A-Za-z0-9.:-]+$/.test(text)) {
      return { problem: `${name} must be a host name or IP address such as 127.0.0.1 or 0.0.0.0 (got "${text}")` };
    }
    return { value: text };
  };
}

function parseAdminToken(value: string): Parsed<string | null> {
  // The token itself is never echoed, only what is wrong with it.
  if (!/^[\x21-\x7e]+$/.test(value)) return { problem: 'YUNPAY_ADMIN_TOKEN must be printable ASCII with no spaces' };
  if (value.length < limits.adminTokenLengthMin || value.length > limits.adminTokenLengthMax) {
    return {
      problem: `YUNPAY_ADMIN_TOKEN must be ${limits.adminTokenLengthMin} to ${limits.adminTokenLengthMax} characters long (got ${value.length}); unset it to have one generated`,
    };
  }
  return { value };
}

function parseWalletLimitsJson(text: string): Parsed<string | null> {
  try {
    JSON.parse(text);
  } catch {
    return { problem: 'YUNPAY_WALLET_LIMITS must be JSON (see the README)' };
  }
  // Kept as text: the wallets context parses and checks the table itself.
  return { value: text };
}

/** YUNPAY_MERCHANT_FEE_FIXED: {"CNY": 30, "usd": 0} → upper-case known currencies, safe non-negative integers. */
export function parseMerchantFeeFixed(text: string): Parsed<Record<string, number>> {
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

/** YUNPAY_PHONE_REGION: an ISO 3166 alpha-2 code libphonenumber has metadata for (any case in, upper case out). */
export function parsePhoneRegion(text: string): Parsed<string> {
  const region = text.toUpperCase();
  if (!/^[A-Z]{2}$/.test(region) || !isSupportedCountry(region)) {
    return {
      problem: `YUNPAY_PHONE_REGION must be an ISO 3166 alpha-2 region with phone numbering, such as CN, HK or GB (got "${text.slice(0, 16)}")`,
    };
  }
  return { value: region };
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
export function parseTrustProxy(text: string): Parsed<TrustProxy> {
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

/**
 * Every variable loadConfig reads: one spec each (name, kind, default, bounds, description), which
 * drives the reading and checking, `yunpay help`, and the README's configuration table (a test
 * compares them). In the order of that table.
 */
export const configSpec = {
  port: integerVariable({
    name: 'PORT',
    defaultValue: 4000,
    min: 0,
    max: 65_535,
    description: 'HTTP port ({range}; 0 picks a free one).',
  }),
  host: parsedVariable({
    name: 'HOST',
    kind: 'host',
    defaultValue: '127.0.0.1',
    defaultText: code('127.0.0.1'),
    parse: hostParser('HOST'),
    description: 'Address the HTTP server binds.',
    details: 'Use `0.0.0.0` behind a load balancer or in a container.',
  }),
  database: parsedVariable<DatabaseConfig>({
    name: 'DATABASE_URL',
    kind: 'url',
    defaultValue: { kind: 'embedded' },
    defaultText: 'unset',
    parse: parseDatabaseUrl,
    description:
      '`postgres://` or `postgresql://` URL of the system of record (`?host=/var/run/postgresql` reaches a local server over its Unix socket); unset: the embedded database (PGlite) in `YUNPAY_DATA_DIR`.',
  }),
  dataDir: parsedVariable({
    name: 'YUNPAY_DATA_DIR',
    kind: 'path',
    defaultValue: './data',
    defaultText: code('./data'),
    parse: (text) => ({ value: text }),
    description: 'The embedded database (`pglite/`), its lock file, and the generated admin token.',
  }),
  adminTokenFromEnv: parsedVariable<string | null>({
    name: 'YUNPAY_ADMIN_TOKEN',
    kind: 'secret',
    defaultValue: null,
    defaultText: 'generated',
    // Spaces are an error here, not padding to trim.
    untrimmed: true,
    parse: parseAdminToken,
    description: `Bearer token for \`/admin/v1\` until staff accounts exist (${limits.adminTokenLengthMin}–${limits.adminTokenLengthMax} printable characters).`,
    details: 'Unset: generated once, kept in `<data dir>/admin-token` (mode 0600).',
  }),
  role: enumVariable({
    name: 'YUNPAY_ROLE',
    choices: roles,
    defaultValue: 'all',
    description:
      '`all` (everything in one process, the card network simulator included), `api` (HTTP only), `worker` (background jobs only) or `network-sim` (the card network simulator alone).',
  }),
  logLevel: enumVariable({
    name: 'LOG_LEVEL',
    choices: logLevels,
    defaultValue: 'info',
    description: `${choiceList(logLevels)}.`,
  }),
  databasePoolSize: integerVariable({
    name: 'DATABASE_POOL_SIZE',
    defaultValue: limits.databasePoolSizeDefault,
    min: 1,
    max: limits.databasePoolSizeMax,
    description: 'PostgreSQL connections per process ({range}); must exceed `YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX`.',
  }),
  ledgerBatchSizeMax: integerVariable({
    name: 'YUNPAY_LEDGER_BATCH_SIZE_MAX',
    defaultValue: limits.ledgerBatchSizeDefault,
    min: 1,
    max: limits.ledgerBatchSizeMax,
    description: 'Transfers the ledger applies in one database transaction ({range}).',
  }),
  ledgerBatchesInFlightMax: integerVariable({
    name: 'YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX',
    defaultValue: limits.ledgerBatchesInFlightDefault,
    min: 1,
    max: limits.ledgerBatchesInFlightMax,
    description: 'Ledger batches applied at once per process ({range}).',
  }),
  walletLimitsJson: parsedVariable<string | null>({
    name: 'YUNPAY_WALLET_LIMITS',
    kind: 'json',
    defaultValue: null,
    defaultText: 'built-in',
    parse: parseWalletLimitsJson,
    description: 'JSON: per currency, three KYC tiers of `{per_payment, daily, monthly, balance}` in minor units.',
    details: 'The currencies named are the ones wallets hold. See [docs/wallets.md](docs/wallets.md).',
  }),
  walletTestTopups: booleanVariable({
    name: 'YUNPAY_WALLET_TEST_TOPUPS',
    defaultValue: true,
    description:
      'Accept Stripe-style test tokens (`tok_visa`, `tok_chargeDeclined`, `tok_insufficientFunds`) as top-up sources and as saved wallet cards.',
    details: 'Set `false` in production.',
  }),
  phoneRegion: parsedVariable({
    name: 'YUNPAY_PHONE_REGION',
    kind: 'string',
    defaultValue: 'CN',
    defaultText: code('CN'),
    parse: parsePhoneRegion,
    description:
      'ISO 3166 alpha-2 region whose national phone numbers people may type without a country code (`13800000001` in `CN` is `+86 138 0000 0001`).',
    details:
      'For sign-up, sign-in and sending money by phone; numbers are checked and stored as E.164 (libphonenumber).',
  }),
  demoData: enumVariable({
    name: 'YUNPAY_DEMO_DATA',
    choices: ['true', 'false', 'default'],
    defaultValue: 'default',
    defaultNote: 'embedded only',
    description: '`true` / `false`: create the two demo wallets at start (printed in the banner).',
    details: 'Default: on with the embedded database, off with PostgreSQL.',
  }),
  merchantFeeBasisPoints: integerVariable({
    name: 'YUNPAY_MERCHANT_FEE_BPS',
    defaultValue: merchantPricingDefault.merchantFeeBasisPoints,
    min: 0,
    max: limits.merchantFeeBasisPointsMax,
    description: 'Default merchant fee in basis points of each payment ({range}; 100 = 1 %).',
    details: 'Rounded half up to the minor unit.',
  }),
  merchantFeeFixedMinor: parsedVariable<Readonly<Record<string, number>>>({
    name: 'YUNPAY_MERCHANT_FEE_FIXED',
    kind: 'json',
    defaultValue: merchantPricingDefault.merchantFeeFixedMinor,
    defaultText: code(JSON.stringify(merchantPricingDefault.merchantFeeFixedMinor)),
    parse: parseMerchantFeeFixed,
    description: 'JSON: default fixed merchant fee per payment by currency, in minor units, e.g. `{"CNY":30}`.',
  }),
  webhookAllowPrivate: booleanVariable({
    name: 'YUNPAY_WEBHOOK_ALLOW_PRIVATE',
    defaultValue: false,
    description:
      '`true`: allow webhook endpoint URLs that resolve to loopback, private, link-local or metadata addresses.',
    details: 'For tests and labs only; see [docs/webhooks.md](docs/webhooks.md).',
  }),
  webDir: parsedVariable<string | null>({
    name: 'YUNPAY_WEB_DIR',
    kind: 'path',
    defaultValue: null,
    defaultText: 'built',
    parse: (text) => ({ value: text }),
    description:
      'The built web apps served at `/app/`, `/pos/` and `/dashboard/`; by default `apps/web/dist` (made by `npm run build`).',
  }),
  trustProxy: parsedVariable<TrustProxy>({
    name: 'YUNPAY_TRUST_PROXY',
    kind: 'list',
    defaultValue: false,
    defaultText: code('false'),
    parse: parseTrustProxy,
    description: `The reverse proxies whose \`X-Forwarded-For\`, \`-Proto\` and \`-Host\` are believed: their addresses or CIDR ranges, comma-separated (\`10.0.0.0/8,127.0.0.1\`), or a hop count (1–${limits.httpTrustProxyHopsMax}).`,
    details:
      'They give the client IP for per-IP rate limits and https for `Secure` and `__Host-` cookies. Also `loopback`, `linklocal` and `uniquelocal`; a hop count only when clients cannot reach the server but through the proxy. `true` and `/0` are refused. See [docs/identity.md](docs/identity.md#behind-a-reverse-proxy).',
  }),
  tls: enumVariable({
    name: 'YUNPAY_TLS',
    choices: tlsModes,
    defaultValue: 'off',
    description:
      "`self-signed`: serve HTTPS with a certificate made for this machine's names and addresses, so a phone on the local network gets a secure context (camera, service worker); `off`: HTTP, unless the two files below are set.",
    details:
      'The generated certificate is kept in `<data dir>/tls/` and made again when the addresses change or it nears expiry; browsers warn about it once. See [docs/web-apps.md](docs/web-apps.md#on-a-phone).',
  }),
  tlsCertFile: parsedVariable<string | null>({
    name: 'YUNPAY_TLS_CERT_FILE',
    kind: 'path',
    defaultValue: null,
    defaultText: 'unset',
    parse: (text) => ({ value: text }),
    description: 'A PEM certificate (with its chain) to serve HTTPS with; set together with `YUNPAY_TLS_KEY_FILE`.',
  }),
  tlsKeyFile: parsedVariable<string | null>({
    name: 'YUNPAY_TLS_KEY_FILE',
    kind: 'path',
    defaultValue: null,
    defaultText: 'unset',
    parse: (text) => ({ value: text }),
    description: "The PEM private key of `YUNPAY_TLS_CERT_FILE`'s certificate.",
  }),
  networkHost: parsedVariable({
    name: 'YUNPAY_NETWORK_HOST',
    kind: 'host',
    defaultValue: '127.0.0.1',
    defaultText: code('127.0.0.1'),
    parse: hostParser('YUNPAY_NETWORK_HOST'),
    description:
      'The card network (ISO 8583 over TCP): where the simulator listens (roles `all`, `network-sim`) and where the gateway connects.',
    details: 'See [docs/card-network.md](docs/card-network.md).',
  }),
  networkPort: integerVariable({
    name: 'YUNPAY_NETWORK_PORT',
    defaultValue: 8583,
    min: 0,
    max: 65_535,
    description:
      "The card network's TCP port ({range}); `0` in role `all` or `network-sim`: any free port (the in-process gateway follows it).",
  }),
  networkRequestTimeoutMs: integerVariable({
    name: 'YUNPAY_NETWORK_TIMEOUT_MS',
    defaultValue: limits.cardNetworkRequestTimeoutMsDefault,
    min: limits.cardNetworkRequestTimeoutMsMin,
    max: limits.cardNetworkRequestTimeoutMsMax,
    description: "How long the gateway waits for the network's answer before it sends a reversal ({range}).",
  }),
  networkPoolSize: integerVariable({
    name: 'YUNPAY_NETWORK_POOL_SIZE',
    defaultValue: limits.cardNetworkPoolSizeDefault,
    min: 1,
    max: limits.cardNetworkPoolSizeMax,
    description: 'TCP connections from each process to the card network ({range}), kept alive with 0800 echo messages.',
  }),
} as const;

/** Read by the cards context at start (modules/cards/vault/config.ts), not by loadConfig. */
export const cardVaultVariables: readonly VariableDoc[] = [
  {
    name: 'YUNPAY_VAULT_KEYS',
    kind: 'secret',
    defaultText: 'generated',
    description: 'Card vault key-encryption keys, `id:base64[,id:base64…]` (32 bytes each).',
    details:
      'Unset: generated once into `<data dir>/vault-keys.json` (mode 0600). See [docs/card-vault.md](docs/card-vault.md).',
  },
  {
    name: 'YUNPAY_VAULT_KEY_ID',
    kind: 'string',
    defaultText: 'first key',
    description: 'Which of `YUNPAY_VAULT_KEYS` encrypts new cards.',
    details: 'Rotate: add a key, make it current, run `yunpay cards rewrap`.',
  },
  {
    name: 'YUNPAY_VAULT_FINGERPRINT_KEY',
    kind: 'secret',
    defaultText: 'generated',
    description: '`id:base64` key of the card-number fingerprint (HMAC); required with `YUNPAY_VAULT_KEYS`.',
  },
  {
    name: 'YUNPAY_VAULT_KEYS_FILE',
    kind: 'path',
    defaultText: 'data dir',
    description: 'A vault key file to use instead of `<data dir>/vault-keys.json` when `YUNPAY_VAULT_KEYS` is unset.',
  },
];

/** Every variable, in the order of `yunpay help` and the README table. */
export const configVariables: readonly VariableDoc[] = [...Object.values(configSpec), ...cardVaultVariables];

type ConfigValues = ReturnType<typeof readConfigValues>;

function readConfigValues(env: Env, problems: string[]) {
  return readVariables(env, configSpec, problems);
}

/** Rules that tie variables together; each variable alone was read (or defaulted) already. */
function crossVariableProblems(values: ConfigValues): string[] {
  const problems: string[] = [];
  if (values.networkPort === 0 && (values.role === 'api' || values.role === 'worker')) {
    problems.push(
      "YUNPAY_NETWORK_PORT must name the network simulator's port in role api or worker (0 only works in role all or network-sim)",
    );
  }
  if ((values.tlsCertFile === null) !== (values.tlsKeyFile === null)) {
    problems.push('YUNPAY_TLS_CERT_FILE and YUNPAY_TLS_KEY_FILE must be set together');
  }
  if (values.tls === 'self-signed' && values.tlsCertFile !== null) {
    problems.push(
      'YUNPAY_TLS=self-signed generates a certificate: unset YUNPAY_TLS_CERT_FILE and YUNPAY_TLS_KEY_FILE, or YUNPAY_TLS',
    );
  }
  if (values.database.kind === 'postgres' && values.databasePoolSize <= values.ledgerBatchesInFlightMax) {
    // Each batch in flight holds a connection; the API needs at least one more.
    problems.push(
      `DATABASE_POOL_SIZE (${values.databasePoolSize}) must be greater than YUNPAY_LEDGER_BATCHES_IN_FLIGHT_MAX (${values.ledgerBatchesInFlightMax})`,
    );
  }
  return problems;
}

function toConfig(values: ConfigValues, cwd: string): Config {
  const {
    dataDir,
    webDir,
    demoData,
    networkHost,
    networkPort,
    networkRequestTimeoutMs,
    networkPoolSize,
    tls,
    tlsCertFile,
    tlsKeyFile,
    ...same
  } = values;
  return {
    ...same,
    tls: tlsConfig(tls, tlsCertFile, tlsKeyFile, cwd),
    dataDir: path.resolve(cwd, dataDir),
    webDir: webDir === null ? null : path.resolve(cwd, webDir),
    demoData: demoData === 'default' ? values.database.kind === 'embedded' : demoData === 'true',
    cardNetwork: {
      host: networkHost,
      port: networkPort,
      requestTimeoutMs: networkRequestTimeoutMs,
      poolSize: networkPoolSize,
    },
  };
}

function tlsConfig(
  mode: (typeof tlsModes)[number],
  certFile: string | null,
  keyFile: string | null,
  cwd: string,
): TlsConfig {
  if (certFile !== null && keyFile !== null) {
    return { kind: 'files', certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) };
  }
  return mode === 'self-signed' ? { kind: 'self-signed' } : { kind: 'off' };
}

/**
 * Turns an environment into a validated Config. Pure: reads only `env` (and `cwd` to resolve a
 * relative data dir). Every bad variable is reported at once in one config_invalid error.
 */
export function loadConfig(env: Env, options: { cwd?: string } = {}): Config {
  const problems: string[] = [];
  const values = readConfigValues(env, problems);
  problems.push(...crossVariableProblems(values));
  if (problems.length > 0) {
    throw new AppError('config_invalid', {
      message: `Invalid configuration: ${problems.join('; ')}.`,
      details: { problems },
    });
  }
  return toConfig(values, options.cwd ?? process.cwd());
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
