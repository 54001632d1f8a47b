import { buildApp, type App } from '../../src/app.js';
import { createLedger, type Ledger } from '../../src/modules/ledger/index.js';
import type { TrustProxy } from '../../src/platform/config.js';
import type { Db } from '../../src/platform/db.js';
import { Lifecycle } from '../../src/platform/lifecycle.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetrics } from '../../src/platform/metrics.js';
import { createServices, type ServiceOptions, type Services } from '../../src/services.js';
import { LogCapture, listenOnFreePort, testAdminToken } from './app.js';
import { openTestDb, type TestDb } from './db.js';

/** The whole platform on a fresh test database, listening on a free loopback port. */
export interface TestPlatform {
  baseUrl: string;
  app: App;
  db: Db;
  testDb: TestDb;
  ledger: Ledger;
  services: Services;
  adminToken: string;
  logs: LogCapture;
  close(): Promise<void>;
}

/** Rate limits high enough that tests of concurrency are not answered by the limiter. */
export const relaxedRateLimits: ServiceOptions['identityRateLimits'] = {
  signUpsPerIp: { requestsMax: 100_000, windowMs: 60_000 },
  signInsPerIp: { requestsMax: 100_000, windowMs: 60_000 },
  signInsPerLogin: { requestsMax: 100_000, windowMs: 60_000 },
  pinAttemptsPerUser: { requestsMax: 100_000, windowMs: 60_000 },
  refreshesPerIp: { requestsMax: 100_000, windowMs: 60_000 },
};

export async function startPlatform(
  options: Partial<Omit<ServiceOptions, 'db' | 'ledger'>> & {
    webDir?: string;
    trustProxy?: TrustProxy;
    /** Serve HTTPS with this certificate and key (baseUrl is then https://). */
    https?: { cert: string; key: string };
    /** What the services see of the ledger (a test's crashing wrapper, say); the real one by default. */
    wrapLedger?: (ledger: Ledger) => Ledger;
  } = {},
): Promise<TestPlatform> {
  const { webDir, trustProxy, wrapLedger, https, ...serviceOptions } = options;
  const testDb = await openTestDb();
  const logs = new LogCapture();
  const logger = createLogger({ level: 'info', destination: logs });
  const ledger = createLedger(testDb.db);
  const services = createServices({
    db: testDb.db,
    ledger: wrapLedger === undefined ? ledger : wrapLedger(ledger),
    logger,
    identityRateLimits: relaxedRateLimits,
    ...serviceOptions,
  });
  const app = buildApp({
    db: testDb.db,
    logger,
    metrics: createMetrics({ processMetrics: false }),
    lifecycle: new Lifecycle(),
    adminToken: testAdminToken,
    services,
    ...(webDir === undefined ? {} : { webDir }),
    ...(trustProxy === undefined ? {} : { trustProxy }),
    ...(https === undefined ? {} : { https }),
  });
  const httpUrl = await listenOnFreePort(app);
  const baseUrl = https === undefined ? httpUrl : httpUrl.replace(/^http:/, 'https:');
  return {
    baseUrl,
    app,
    db: testDb.db,
    testDb,
    ledger,
    services,
    adminToken: testAdminToken,
    logs,
    async close() {
      await app.close();
      await services.close();
      await ledger.close();
      await testDb.dispose();
    },
  };
}
