import type { Logger } from './logger.js';

/**
 * A context's background job, run by the worker role (and role all) on its interval, one run at a
 * time: each context lists its own (createXContext(...).jobs); worker-jobs.ts starts them all.
 */
export interface WorkerJob {
  name: string;
  intervalMs: number;
  /** One run; the logger is the job's own. A run that throws is logged and tried again next time. */
  run(logger: Logger): Promise<void>;
  /** For the start-up banner, when the job is worth a line there. */
  describe?: string;
}
