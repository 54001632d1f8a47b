/**
 * Process-wide run state shared by the HTTP app and the CLI. Once shutdown begins, /readyz
 * answers 503 shutting_down so that load balancers stop sending traffic while we drain.
 */
export class Lifecycle {
  #shutdownStartedAt: Date | null = null;

  get shuttingDown(): boolean {
    return this.#shutdownStartedAt !== null;
  }

  get shutdownStartedAt(): Date | null {
    return this.#shutdownStartedAt;
  }

  /** Returns false when shutdown had already begun (a second signal). */
  beginShutdown(): boolean {
    if (this.#shutdownStartedAt !== null) return false;
    this.#shutdownStartedAt = new Date();
    return true;
  }
}
