import type { DestinationStream } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import type { Db } from '../../src/platform/db.js';
import { Lifecycle } from '../../src/platform/lifecycle.js';
import { createLogger } from '../../src/platform/logger.js';
import { createMetrics, type Metrics } from '../../src/platform/metrics.js';
import type { Migration } from '../../src/platform/migrations.js';

export const testAdminToken = 'test-admin-token-0123456789abcdefghijklmnop';

/** Collects every JSON log line the app writes, parsed. */
export class LogCapture implements DestinationStream {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
}

export interface TestApp {
  app: App;
  logs: LogCapture;
  metrics: Metrics;
  lifecycle: Lifecycle;
}

export function buildTestApp(options: { db: Db; migrations?: readonly Migration[] }): TestApp {
  const logs = new LogCapture();
  const metrics = createMetrics({ processMetrics: false });
  const lifecycle = new Lifecycle();
  const app = buildApp({
    db: options.db,
    logger: createLogger({ level: 'info', destination: logs }),
    metrics,
    lifecycle,
    adminToken: testAdminToken,
    ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
  });
  return { app, logs, metrics, lifecycle };
}

/** Listens on an OS-chosen port on loopback and returns the base URL. */
export async function listenOnFreePort(app: App): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return `http://127.0.0.1:${address.port}`;
}
