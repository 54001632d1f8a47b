import { assert } from './platform/errors.js';
import type { Logger } from './platform/logger.js';

export interface PeriodicTask {
  /** Stops scheduling and waits for a run under way to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `run` every intervalMs (never two at once); a failed run is logged and retried next time.
 * For housekeeping jobs: purging expired idempotency keys and refresh tokens.
 */
export function startPeriodicTask(options: {
  name: string;
  intervalMs: number;
  logger: Logger;
  run: () => Promise<void>;
  /** What a failed run logs. */
  failureMessage?: string;
}): PeriodicTask {
  assert(Number.isSafeInteger(options.intervalMs) && options.intervalMs > 0, 'interval must be a positive integer');
  const logger = options.logger.child({ component: options.name });
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const schedule = () => {
    timer = setTimeout(() => {
      timer = null;
      running = options
        .run()
        .catch((error: unknown) =>
          logger.error({ err: error }, options.failureMessage ?? 'periodic task failed; retrying next time'),
        )
        .finally(() => {
          running = null;
          if (!stopped) schedule();
        });
    }, options.intervalMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
