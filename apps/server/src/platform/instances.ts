import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import { assert } from './errors.js';
import { checkLimitTable } from './limits.js';
import type { Logger } from './logger.js';
import type { Migration } from './migrations.js';

/**
 * Which Yunpay processes are alive, seen from the database every node shares. Each process gets an
 * instance id at start and writes a heartbeat every second; a process whose heartbeat is older
 * than `deadAfterMs` is dead (a kill -9, a lost machine). Work a process claimed (an idempotency
 * key in progress) names its instance, so a retry can take over the work of a dead process within
 * seconds instead of waiting out a long timeout, and never takes over a live one's.
 */

export const instanceMigrations: readonly Migration[] = [
  {
    id: '0040_platform_instances',
    sql: `
      create table platform_instances (
        id text primary key check (id ~ '^ins_[0-9a-f]{24}$'),
        role text not null,
        pid integer not null,
        started_at timestamptz not null,
        heartbeat_at timestamptz not null
      );
      create index platform_instances_heartbeat on platform_instances (heartbeat_at);
    `,
  },
];

export const instanceLimits = {
  heartbeatIntervalMs: 1_000,
  /** No heartbeat for this long: the process is dead, and what it claimed may be taken over. */
  deadAfterMs: 10_000,
  /** Rows of instances dead this long are deleted. */
  purgeAfterMs: 24 * 60 * 60 * 1000,
} as const;

export type InstanceLimits = { readonly [Name in keyof typeof instanceLimits]: number };

/** Crashes on an inconsistent table; run at start-up by checkAllLimits (and by the tests). */
export function checkInstanceLimits(table: InstanceLimits = instanceLimits): void {
  checkLimitTable('instanceLimits', table);
  assert(
    table.deadAfterMs >= 5 * table.heartbeatIntervalMs,
    'an instance is declared dead only after several missed heartbeats',
  );
}

export function newInstanceId(): string {
  return `ins_${randomBytes(12).toString('hex')}`;
}

/**
 * SQL that is true when the instance named by `column` is alive (for the caller's where clauses).
 * The seconds are a literal: the bound is a constant, not a parameter.
 */
export function instanceAliveSql(column: string): string {
  return `exists (select 1 from platform_instances i where i.id = ${column}
    and i.heartbeat_at > now() - interval '${instanceLimits.deadAfterMs / 1000} seconds')`;
}

export interface Instance {
  readonly id: string;
  /** Resolves once the instance row exists (claims that name this instance wait for it). */
  ready(): Promise<void>;
  /** Stops the heartbeat and removes the row (a clean shutdown: nothing of ours is in progress). */
  stop(): Promise<void>;
}

/**
 * Registers this process (at once, in the background) and keeps its heartbeat going until stop().
 * A heartbeat also re-creates a row that went missing and deletes the rows of long-dead instances.
 */
export function startInstance(db: Db, options: { role: string; logger?: Logger; id?: string }): Instance {
  const id = options.id ?? newInstanceId();
  const beat = () =>
    db.query(
      `with beat as (
         insert into platform_instances (id, role, pid, started_at, heartbeat_at) values ($1, $2, $3, now(), now())
         on conflict (id) do update set heartbeat_at = now() returning id)
       delete from platform_instances where heartbeat_at < now() - make_interval(secs => $4)
         and id not in (select id from beat)`,
      [id, options.role, process.pid, instanceLimits.purgeAfterMs / 1000],
    );
  let registered: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    registered ??= beat().then(
      () => undefined,
      (error: unknown) => {
        registered = null;
        throw error;
      },
    );
    return registered;
  };
  void ready().catch((error: unknown) => options.logger?.warn({ err: error }, 'instance registration failed'));
  let stopped = false;
  let beating: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (beating !== null || stopped) return;
    beating = beat()
      .catch((error: unknown) => options.logger?.warn({ err: error }, 'instance heartbeat failed'))
      .finally(() => {
        beating = null;
      });
  }, instanceLimits.heartbeatIntervalMs);
  timer.unref();
  return {
    id,
    ready,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await beating;
      await registered?.catch(() => undefined);
      await db.query('delete from platform_instances where id = $1', [id]).catch(() => undefined);
    },
  };
}
