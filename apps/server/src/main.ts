#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { demoPassword, demoPin, demoUsers, seedDemoData } from './demo.js';
import { createServices, type ServiceOptions, type Services } from './services.js';
import { moneyVerifyChecks, startWorkerJobs, type WorkerJobs } from './worker-jobs.js';
import { checkAllLimits } from './limit-checks.js';
import { allMigrations } from './migrations.js';
import {
  describeVaultKeys,
  loadVaultKeysFromEnv,
  runCardsRewrap,
  startNetworkSimulator,
  type NetworkSimulator,
  type VaultKeys,
} from './modules/cards/index.js';
import { createLedger, verifyExitCode, verifyLedger } from './modules/ledger/index.js';
import { configVariables, loadConfig, resolveAdminToken, type Config, type Env } from './platform/config.js';
import { helpLines } from './platform/env-variables.js';
import { openEmbeddedDb, openPostgresDb, type Db } from './platform/db.js';
import { isAppError } from './platform/errors.js';
import { Lifecycle } from './platform/lifecycle.js';
import { limits } from './platform/limits.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import { runMigrations } from './platform/migrations.js';
import { loadTls, machineAddresses, type TlsMaterial } from './platform/tls.js';
import path from 'node:path';

/** sysexits.h codes, so that scripts can tell a usage mistake from a failure. */
const exitCodes = { ok: 0, failure: 1, usage: 64, config: 78 } as const;

function version(): string {
  try {
    const packageUrl = new URL('../../package.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(fileURLToPath(packageUrl), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function usage(): string {
  const variables = helpLines(configVariables).join('\n');
  return `Usage: yunpay <command>

Commands:
  start           Run the platform: migrate, then serve (YUNPAY_ROLE all | api | worker | network-sim)
  migrate         Apply pending database migrations and print what was applied
  ledger verify   Check the ledger's invariants and print the report as JSON
  cards rewrap    Re-wrap every stored card's data key under the current vault key
  help            Show this help

Environment (name, default, meaning):
${variables}

Exit codes: 0 success; 1 operational failure (database unreachable, data directory locked, ...);
64 usage error; 78 invalid configuration. ledger verify exits with a bit set of the failed checks.
`;
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  // Follow the cause chain a few levels: "Migration 0002 failed: relation x does not exist".
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
    parts.push(current instanceof Error ? current.message : typeof current === 'string' ? current : 'unknown error');
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ').replaceAll('\n', ' ');
}

async function openDatabase(config: Config): Promise<Db> {
  if (config.database.kind === 'postgres') {
    return openPostgresDb({
      url: config.database.url,
      connectionCountMax: config.databasePoolSize,
      connectTimeoutS: limits.databaseConnectTimeoutS,
      statementTimeoutMs: limits.databaseStatementTimeoutMs,
    });
  }
  return openEmbeddedDb({ dataDir: config.dataDir });
}

function databaseDescription(config: Config): string {
  if (config.database.kind === 'embedded') return `embedded PGlite in ${config.dataDir}`;
  const url = new URL(config.database.url);
  return `PostgreSQL at ${url.hostname}:${url.port === '' ? '5432' : url.port}${url.pathname}`;
}

function trustProxyDescription(trustProxy: Config['trustProxy']): string {
  if (trustProxy === false) return 'X-Forwarded-* ignored (YUNPAY_TRUST_PROXY unset)';
  if (typeof trustProxy === 'number') return `X-Forwarded-* believed from the nearest ${trustProxy} hop(s)`;
  return `X-Forwarded-* believed from ${trustProxy.join(', ')}`;
}

async function withDatabase<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function commandMigrate(config: Config): Promise<number> {
  const report = await withDatabase(config, (db) => runMigrations(db, allMigrations));
  process.stdout.write(
    `${JSON.stringify({ database: databaseDescription(config), applied: report.applied, already_applied_count: report.alreadyApplied })}\n`,
  );
  return exitCodes.ok;
}

async function commandLedgerVerify(config: Config): Promise<number> {
  // Migrations first: verifying a database this build cannot read would report nonsense.
  const report = await withDatabase(config, async (db) => {
    await runMigrations(db, allMigrations);
    return verifyLedger(db, { extraChecks: moneyVerifyChecks(config.cardNetwork.requestTimeoutMs) });
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return verifyExitCode(report);
}

async function commandCardsRewrap(config: Config, env: Env): Promise<number> {
  // Never generate keys here: a rewrap against the wrong data dir must fail, not create new keys.
  const { keys } = loadVaultKeysFromEnv(env, config.dataDir, { generate: false });
  return withDatabase(config, async (db) => {
    await runMigrations(db, allMigrations);
    const report = await runCardsRewrap({ db, keys, out: (line) => process.stdout.write(`${line}\n`) });
    return report.remainingCount === 0 ? exitCodes.ok : exitCodes.failure;
  });
}

/** The simulator's files live under the data dir: its journal, card key secret and clearing files. */
function networkSimDataDir(config: Config): string {
  return path.join(config.dataDir, 'network-sim');
}

/** YUNPAY_ROLE=network-sim: the card network simulator alone (no database, no HTTP). */
async function commandStartNetworkSim(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const simulator = await startNetworkSimulator({
    host: config.cardNetwork.host,
    port: config.cardNetwork.port,
    dataDir: networkSimDataDir(config),
    logger,
    clearingSchedule: true,
  });
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) process.exit(exitCodes.failure);
    stopping = true;
    logger.info({ reason }, 'shutting down');
    await simulator.stop();
    process.exit(exitCodes.ok);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.stdout.write(
    [
      `Yunpay ${version()} is running: role network-sim`,
      `  Card network   ISO 8583 over TCP at ${urlHost(simulator.host)}:${simulator.port}`,
      `  Data           ${simulator.dataDir} (journal, clearing files)`,
      'Stop with Ctrl-C (SIGINT) or SIGTERM.',
      '',
    ].join('\n'),
  );
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function commandStart(config: Config, env: Env): Promise<void> {
  if (config.role === 'network-sim') return commandStartNetworkSim(config);
  const logger = createLogger({ level: config.logLevel });
  const servesHttp = config.role === 'all' || config.role === 'api';
  // Only a node that serves /admin/v1 needs the token (and creates the file).
  const admin = servesHttp ? resolveAdminToken(config) : null;
  const metrics = createMetrics();
  const lifecycle = new Lifecycle();
  const opened: Opened = {
    db: await openDatabase(config),
    ledger: null,
    app: null,
    workerJobs: null,
    simulator: null,
    services: null,
  };
  installShutdownHandlers({ opened, lifecycle, logger });
  try {
    await startOpened({ config, env, logger, admin, metrics, lifecycle, opened });
  } catch (error) {
    // Start-up failed half way: release what was opened so the data dir lock is freed.
    await opened.app?.close().catch(() => undefined);
    await opened.workerJobs?.stop().catch(() => undefined);
    await opened.services?.close().catch(() => undefined);
    await opened.simulator?.stop().catch(() => undefined);
    await opened.ledger?.close().catch(() => undefined);
    await opened.db.close().catch(() => undefined);
    throw error;
  }
}

/**
 * What `yunpay start` has opened so far. Each field is set as soon as its part is open, so that a
 * stop signal or a failed start-up closes exactly what is open, in reverse order of opening.
 */
interface Opened {
  db: Db;
  ledger: ReturnType<typeof createLedger> | null;
  app: ReturnType<typeof buildApp> | null;
  workerJobs: WorkerJobs | null;
  simulator: NetworkSimulator | null;
  services: Services | null;
}

interface StartContext {
  config: Config;
  env: Env;
  logger: Logger;
  admin: ReturnType<typeof resolveAdminToken> | null;
  metrics: Metrics;
  lifecycle: Lifecycle;
  opened: Opened;
}

function installShutdownHandlers(context: Pick<StartContext, 'opened' | 'lifecycle' | 'logger'>): void {
  process.on('SIGTERM', () => void shutdown(context, 'SIGTERM'));
  process.on('SIGINT', () => void shutdown(context, 'SIGINT'));
}

async function shutdown(
  { opened, lifecycle, logger }: Pick<StartContext, 'opened' | 'lifecycle' | 'logger'>,
  reason: string,
): Promise<never> {
  if (!lifecycle.beginShutdown()) {
    logger.warn({ reason }, 'second stop request: exiting without draining');
    process.exit(exitCodes.failure);
  }
  logger.info({ reason, drain_timeout_ms: limits.shutdownDrainTimeoutMs }, 'shutting down');
  // Deliberately not unref()'d: it also keeps the process alive while a drain awaits something
  // that holds no handle, so a stuck drain ends in exit 1 rather than a silent exit 0.
  setTimeout(() => {
    logger.error({ drain_timeout_ms: limits.shutdownDrainTimeoutMs }, 'drain took too long: exiting anyway');
    process.exit(exitCodes.failure);
  }, limits.shutdownDrainTimeoutMs);
  try {
    // Order matters: requests in flight may still be waiting on ledger batches.
    if (opened.app !== null) await opened.app.close();
    if (opened.workerJobs !== null) await opened.workerJobs.stop();
    if (opened.services !== null) await opened.services.close();
    if (opened.simulator !== null) await opened.simulator.stop();
    if (opened.ledger !== null) await opened.ledger.close();
    await opened.db.close();
    logger.info('shut down cleanly');
    process.exit(exitCodes.ok);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(exitCodes.failure);
  }
}

/** Migrates, then opens the ledger, the simulator, the services, the HTTP server and the worker. */
async function startOpened(context: StartContext): Promise<void> {
  const { config, logger, opened } = context;
  const { db } = opened;
  const migrationReport = await runMigrations(db, allMigrations);
  logger.info(
    { applied: migrationReport.applied, already_applied_count: migrationReport.alreadyApplied },
    'migrations applied',
  );
  const ledger = createLedger(db, {
    batchSizeMax: config.ledgerBatchSizeMax,
    batchesInFlightMax: config.ledgerBatchesInFlightMax,
    observer: context.metrics.ledgerObserver(),
  });
  opened.ledger = ledger;
  const vault = loadVaultKeys(context);
  if (config.role === 'all') {
    // One process runs everything, the card network simulator included.
    opened.simulator = await startNetworkSimulator({
      host: config.cardNetwork.host,
      port: config.cardNetwork.port,
      dataDir: networkSimDataDir(config),
      logger,
      clearingSchedule: true,
    });
  }
  const services = createServices(serviceOptions(context, { ledger, vaultKeys: vault.keys }));
  opened.services = services;
  const demoLines = await seedDemo(config, services, logger);
  const lines: string[] = [];
  if (context.admin !== null) {
    lines.push(...(await startHttp(context, context.admin, services)));
  } else {
    lines.push('  HTTP           none (role worker)');
  }
  if (config.role === 'all' || config.role === 'worker') {
    opened.workerJobs = startWorkerJobs({ services, ledger, logger });
    lines.push(...opened.workerJobs.describe());
  }
  lines.push(...startedLines(context, vault), ...demoLines, ...adminTokenLines(context.admin));
  writeBanner(config, lines);
}

/** The vault's keys: from the environment, or generated once into the data dir (mode 0600). */
function loadVaultKeys({ config, env, logger }: StartContext): ReturnType<typeof loadVaultKeysFromEnv> {
  const vault = loadVaultKeysFromEnv(env, config.dataDir);
  logger.info({ vault_keys: describeVaultKeys(vault.keys), source: vault.source }, 'card vault keys loaded');
  if (vault.source !== 'env' && config.database.kind === 'postgres') {
    logger.warn(
      'card vault keys come from a file in the data dir: with several nodes on one database, set YUNPAY_VAULT_KEYS (and YUNPAY_VAULT_FINGERPRINT_KEY) on every node',
    );
  }
  return vault;
}

function serviceOptions(
  { config, logger, opened }: StartContext,
  { ledger, vaultKeys }: { ledger: ReturnType<typeof createLedger>; vaultKeys: VaultKeys },
): ServiceOptions {
  return {
    db: opened.db,
    ledger,
    logger,
    role: config.role,
    cards: {
      vaultKeys,
      network: {
        host: config.cardNetwork.host,
        port: opened.simulator?.port ?? config.cardNetwork.port,
        requestTimeoutMs: config.cardNetwork.requestTimeoutMs,
        poolSize: config.cardNetwork.poolSize,
      },
    },
    walletLimitsJson: config.walletLimitsJson,
    walletTestTopups: config.walletTestTopups,
    phoneRegion: config.phoneRegion,
    merchantPricing: {
      merchantFeeBasisPoints: config.merchantFeeBasisPoints,
      merchantFeeFixedMinor: config.merchantFeeFixedMinor,
    },
    webhookAllowPrivate: config.webhookAllowPrivate,
  };
}

/** Seeds the demo wallets when asked (not on a worker); returns the banner lines about them. */
async function seedDemo(config: Config, services: Services, logger: Logger): Promise<string[]> {
  if (!config.demoData || config.role === 'worker') return [];
  if (!config.walletTestTopups) {
    logger.warn('demo data needs YUNPAY_WALLET_TEST_TOPUPS=true: not created');
    return [];
  }
  await seedDemoData(services);
  return [
    `  Demo wallets   ${demoUsers.map((user) => user.phone).join(', ')}`,
    `                 password ${demoPassword}, payment PIN ${demoPin}`,
  ];
}

/** Builds the app and listens; returns the banner lines with its addresses. */
async function startHttp(
  { config, logger, metrics, lifecycle, opened }: StartContext,
  admin: NonNullable<StartContext['admin']>,
  services: Services,
): Promise<string[]> {
  const tls = await loadTls(config);
  if (tls !== null) {
    logger.info(
      { tls: tls.source, cert_file: tls.certFile, created: tls.created, valid_to: tls.validTo.toISOString() },
      'serving HTTPS',
    );
  }
  const app = buildApp({
    db: opened.db,
    logger,
    metrics,
    lifecycle,
    adminToken: admin.token,
    services,
    cardNetworkRequestTimeoutMs: config.cardNetwork.requestTimeoutMs,
    ...(config.webDir === null ? {} : { webDir: config.webDir }),
    trustProxy: config.trustProxy,
    ...(tls === null ? {} : { https: { cert: tls.cert, key: tls.key } }),
  });
  // Recorded before listening: a failed listen must still close the app.
  opened.app = app;
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const scheme = tls === null ? 'http' : 'https';
  const base = `${scheme}://${urlHost(config.host)}:${address.port}`;
  return [
    `  API            ${base}`,
    `  Health         ${base}/healthz`,
    `  Readiness      ${base}/readyz`,
    `  Metrics        ${base}/metrics`,
    `  Wallet API     ${base}/wallet/v1`,
    `  Merchant API   ${base}/v1  (Stripe-compatible; keys from POST /admin/v1/merchants)`,
    `  API reference  ${base}/docs  (OpenAPI document: ${base}/openapi.json)`,
    `  Admin API      ${base}/admin/v1  (Authorization: Bearer <admin token>)`,
    `  Wallet app     ${base}/app/`,
    `  Merchant POS   ${base}/pos/  (sign in with a secret key)`,
    `  Dashboard      ${base}/dashboard/`,
    `  Proxy          ${trustProxyDescription(config.trustProxy)}`,
    ...tlsLines(tls),
    ...(await localNetworkLines(config.host, scheme, address.port)),
  ];
}

function tlsLines(tls: TlsMaterial | null): string[] {
  if (tls === null) return [];
  const what =
    tls.source === 'self-signed'
      ? `self-signed certificate ${tls.created ? 'made' : 'reused'} (${tls.certFile}); browsers warn once`
      : `certificate from ${tls.certFile}`;
  return [`  HTTPS          ${what}`, `                 SHA-256 ${tls.fingerprint256}`];
}

/**
 * On every interface (HOST=0.0.0.0 or ::): the wallet's address on the local network, and a QR
 * code of it drawn in the terminal, so a phone on the same network opens the wallet by scanning.
 */
async function localNetworkLines(host: string, scheme: string, port: number): Promise<string[]> {
  if (host !== '0.0.0.0' && host !== '::') return [];
  const addresses = machineAddresses().filter((address) => host === '::' || !address.includes(':'));
  if (addresses.length === 0) return [];
  const urls = addresses.map((address) => `${scheme}://${urlHost(address)}:${port}/app/`);
  const { default: QRCode } = await import('qrcode');
  const qr = await QRCode.toString(urls[0]!, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
  return [
    `  On your phone  ${urls[0]!}${scheme === 'http' ? '  (the camera needs HTTPS: YUNPAY_TLS=self-signed)' : ''}`,
    ...urls.slice(1).map((url) => `                 ${url}`),
    ...qr
      .trimEnd()
      .split('\n')
      .map((line) => `  ${line}`),
  ];
}

/** The banner lines about the card network and the vault keys. */
function startedLines({ config, opened }: StartContext, vault: ReturnType<typeof loadVaultKeysFromEnv>): string[] {
  const simulator = opened.simulator;
  return [
    simulator !== null
      ? `  Card network   ISO 8583 simulator at ${urlHost(simulator.host)}:${simulator.port} (in process)`
      : `  Card network   ${urlHost(config.cardNetwork.host)}:${config.cardNetwork.port}`,
    `  Card vault     keys ${vault.source === 'env' ? 'from YUNPAY_VAULT_KEYS' : `in ${vault.filePath ?? ''}`}`,
  ];
}

function adminTokenLines(admin: StartContext['admin']): string[] {
  if (admin?.source === 'env') return ['  Admin token    from YUNPAY_ADMIN_TOKEN'];
  if (admin !== null) {
    return [`  Admin token    ${admin.token}`, `                 (kept in ${admin.filePath ?? ''}, mode 0600)`];
  }
  return [];
}

function writeBanner(config: Config, lines: readonly string[]): void {
  const banner = [
    `Yunpay ${version()} is running: role ${config.role}, ${databaseDescription(config)}`,
    ...lines,
    ...(config.database.kind === 'embedded'
      ? [
          'warning: the embedded database (PGlite) does not fsync: it survives a process crash, not a power loss. Use DATABASE_URL=postgres://... in production.',
        ]
      : []),
    'Stop with Ctrl-C (SIGINT) or SIGTERM.',
  ];
  process.stdout.write(`${banner.join('\n')}\n`);
}

async function main(argv: readonly string[], env: Env): Promise<number | 'running'> {
  const [command, subcommand, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(usage());
    return exitCodes.usage;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage());
    return exitCodes.ok;
  }
  const known =
    (command === 'start' && subcommand === undefined) ||
    (command === 'migrate' && subcommand === undefined) ||
    (command === 'ledger' && subcommand === 'verify' && rest.length === 0) ||
    (command === 'cards' && subcommand === 'rewrap' && rest.length === 0);
  if (!known) {
    process.stderr.write(`yunpay: unknown command "${argv.join(' ')}"\n\n${usage()}`);
    return exitCodes.usage;
  }
  checkAllLimits();
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (isAppError(error) && error.code === 'config_invalid') {
      process.stderr.write(`yunpay: ${error.message}\n`);
      return exitCodes.config;
    }
    throw error;
  }
  try {
    if (command === 'start') {
      await commandStart(config, env);
      return 'running';
    }
    if (command === 'migrate') return await commandMigrate(config);
    if (command === 'cards') return await commandCardsRewrap(config, env);
    return await commandLedgerVerify(config);
  } catch (error) {
    process.stderr.write(`yunpay: ${argv.join(' ')} failed: ${describeError(error)}\n`);
    return isAppError(error) && error.code === 'config_invalid' ? exitCodes.config : exitCodes.failure;
  }
}

const outcome = await main(process.argv.slice(2), process.env);
if (outcome !== 'running') process.exitCode = outcome;
