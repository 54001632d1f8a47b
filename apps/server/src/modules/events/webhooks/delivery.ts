import type { Db, SqlExecutor } from '../../../platform/db.js';
import { assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import type { Logger } from '../../../platform/logger.js';
import { newObjectId } from '../../../platform/ids.js';
import { countEventDeliveryAttempt, handOutEvent, takeOutboxEvents } from '../merchant-events/outbox.js';
import type { MerchantEvents } from '../merchant-events/service.js';
import { checkTarget, type HostResolver } from './address-policy.js';
import { postToTarget, type PostOutcome } from './connector.js';
import { eventTypeMatches } from './event-types.js';
import { decryptSigningSecret, signatureHeader, type EncryptionKey } from './secrets.js';
import { endpointColumns, refreshEventDeliveryState, type EndpointRow } from './repository.js';

/** What one deliverDue call did. */
export interface DeliveryReport {
  /** Events taken from the outbox and handed to their endpoints. */
  eventsDispatched: number;
  /** POSTs made (or refused by the address policy). */
  attempts: number;
  delivered: number;
  /** Deliveries that will be retried later. */
  retrying: number;
  /** Deliveries given up (past the retry window). */
  failed: number;
  /** Deliveries dropped because their endpoint was disabled or deleted meanwhile. */
  canceled: number;
}

/** What the webhook part works with: the database, the events, the signing key, the address policy, the clock. */
export interface WebhookRuntime {
  db: Db;
  events: Pick<MerchantEvents, 'retrieve'>;
  key: () => Promise<EncryptionKey>;
  resolver: HostResolver;
  allowPrivate: boolean;
  now: () => number;
  logger?: Logger;
}

/**
 * Delay before the next attempt after `attemptCount` failed ones (1 min, 5 min, 30 min, 2 h, 5 h,
 * then every webhookRetryDelayMsMax, 10 h) until the delivery's retry window (3 days after the
 * event) is over.
 */
const retryDelaysMs: readonly number[] = [
  60_000,
  300_000,
  1_800_000,
  7_200_000,
  18_000_000,
  limits.webhookRetryDelayMsMax,
];

/** Run at start-up by checkAllLimits: the retry schedule grows and stays within webhookRetryDelayMsMax. */
export function checkWebhookLimits(delays: readonly number[] = retryDelaysMs): void {
  assert(delays.length > 0, 'the webhook retry schedule is not empty');
  delays.forEach((delay, index) => {
    assert(
      Number.isSafeInteger(delay) && delay > 0 && delay <= limits.webhookRetryDelayMsMax,
      `webhook retry delay ${delay} must be 1-${limits.webhookRetryDelayMsMax} ms`,
    );
    assert(index === 0 || (delays[index - 1] ?? 0) <= delay, 'webhook retry delays never shrink');
  });
}

export function retryDelayMs(attemptCount: number): number {
  assert(Number.isSafeInteger(attemptCount) && attemptCount >= 1, 'a retry follows at least one attempt');
  const delay = retryDelaysMs[Math.min(attemptCount, retryDelaysMs.length) - 1];
  assert(delay !== undefined, 'retry delay table is not empty');
  return Math.min(delay, limits.webhookRetryDelayMsMax);
}

const userAgent = 'Yunpay-Webhooks/1.0';

interface ClaimedDelivery {
  event_id: string;
  endpoint_id: string;
  account_id: string;
  livemode: boolean;
  attempt_count: number;
  retry_until: Date;
}

/** Hands new outbox events to one delivery row per matching enabled endpoint. */
async function dispatchNewEvents(dependencies: WebhookRuntime, limit: number): Promise<number> {
  const at = new Date(dependencies.now());
  return dependencies.db.transaction(async (tx) => {
    const events = await takeOutboxEvents(tx, limit);
    for (const event of events) {
      const endpoints = await tx.query<{ id: string; enabled_events: string[] }>(
        `select id, enabled_events from webhooks_endpoints
          where account_id = $1 and livemode = $2 and status = 'enabled' and deleted_at is null`,
        [event.accountId, event.livemode],
      );
      const retryUntil = new Date(event.createdAt.getTime() + limits.webhookRetryWindowMs);
      for (const endpoint of endpoints) {
        if (!eventTypeMatches(endpoint.enabled_events, event.type)) continue;
        await tx.query(
          `insert into webhooks_deliveries
             (event_id, endpoint_id, account_id, livemode, state, next_attempt_at, retry_until)
           values ($1, $2, $3, $4, 'pending', $5, $6) on conflict (event_id, endpoint_id) do nothing`,
          [event.id, endpoint.id, event.accountId, event.livemode, at, retryUntil],
        );
      }
      await handOutEvent(tx, event.id);
      await refreshEventDeliveryState(tx, event.id);
    }
    return events.length;
  });
}

/**
 * Takes up to `limit` due deliveries in one short transaction and leases them (next_attempt_at
 * pushed past the HTTP timeout), so no other worker takes them while their POST is in flight and
 * a crashed worker's deliveries come due again.
 */
async function claimDue(dependencies: WebhookRuntime, limit: number): Promise<ClaimedDelivery[]> {
  const nowMs = dependencies.now();
  return dependencies.db.query<ClaimedDelivery>(
    `update webhooks_deliveries d
        set attempt_count = d.attempt_count + 1, next_attempt_at = $2, updated_at = clock_timestamp()
       from (select event_id, endpoint_id from webhooks_deliveries
              where state = 'pending' and next_attempt_at <= $1
              order by next_attempt_at limit $3 for update skip locked) due
      where d.event_id = due.event_id and d.endpoint_id = due.endpoint_id and d.state = 'pending'
      returning d.event_id, d.endpoint_id, d.account_id, d.livemode, d.attempt_count, d.retry_until`,
    [new Date(nowMs), new Date(nowMs + limits.webhookDeliveryLeaseMs), limit],
  );
}

async function cancel(tx: SqlExecutor, delivery: ClaimedDelivery): Promise<void> {
  await tx.query(
    `update webhooks_deliveries set state = 'canceled', updated_at = clock_timestamp()
      where event_id = $1 and endpoint_id = $2 and state = 'pending'`,
    [delivery.event_id, delivery.endpoint_id],
  );
  await refreshEventDeliveryState(tx, delivery.event_id);
}

type Result = 'delivered' | 'retrying' | 'failed' | 'canceled';

/**
 * POSTs a signed event body to the endpoint. The URL is checked again at every delivery: the name
 * may point somewhere else since the endpoint was saved.
 */
async function postEvent(
  dependencies: WebhookRuntime,
  endpoint: EndpointRow,
  payload: { body: string; secret: string },
): Promise<PostOutcome> {
  const check = await checkTarget(endpoint.url, {
    resolver: dependencies.resolver,
    allowPrivate: dependencies.allowPrivate,
  });
  if (!check.ok) {
    return { statusCode: null, error: `refused: the URL ${check.reason}`, durationMs: 0, responseExcerpt: '' };
  }
  const { body, secret } = payload;
  return postToTarget({
    target: check.target,
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': userAgent,
      'stripe-signature': signatureHeader({ secret, body, timestampS: Math.floor(Date.now() / 1000) }),
    },
  });
}

/** One delivery: read (no transaction held), POST, record (one short transaction). */
async function deliverOne(dependencies: WebhookRuntime, delivery: ClaimedDelivery): Promise<Result> {
  const { db } = dependencies;
  const scope = { accountId: delivery.account_id, livemode: delivery.livemode };
  const endpoints = await db.query<EndpointRow & { deleted_at: Date | null }>(
    `select ${endpointColumns}, deleted_at from webhooks_endpoints where id = $1 and account_id = $2 and livemode = $3`,
    [delivery.endpoint_id, scope.accountId, scope.livemode],
  );
  const endpoint = endpoints[0];
  assert(endpoint !== undefined, 'a delivery names an endpoint of its own account and mode');
  if (endpoint.status !== 'enabled' || endpoint.deleted_at !== null) {
    await db.transaction((tx) => cancel(tx, delivery));
    return 'canceled';
  }
  const event = await dependencies.events.retrieve(scope, delivery.event_id);
  assert(event.livemode === delivery.livemode, 'an event is delivered in its own mode');
  const body = JSON.stringify(event);
  const secret = decryptSigningSecret(await dependencies.key(), endpoint.secret_ciphertext, endpoint.id);

  const outcome = await postEvent(dependencies, endpoint, { body, secret });
  const succeeded = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const nextAttemptMs = dependencies.now() + retryDelayMs(delivery.attempt_count);
  const result: Result = succeeded
    ? 'delivered'
    : nextAttemptMs > delivery.retry_until.getTime()
      ? 'failed'
      : 'retrying';
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into webhooks_attempts
         (id, account_id, livemode, endpoint_id, event_id, attempt_number, status_code, error, duration_ms, response_excerpt)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        newObjectId('wha'),
        scope.accountId,
        scope.livemode,
        endpoint.id,
        delivery.event_id,
        delivery.attempt_count,
        outcome.statusCode,
        outcome.statusCode === null ? (outcome.error ?? 'no response') : null,
        outcome.durationMs,
        outcome.responseExcerpt.replaceAll('\u0000', ''),
      ],
    );
    await tx.query(
      `update webhooks_deliveries set state = $3, next_attempt_at = $4, updated_at = clock_timestamp()
        where event_id = $1 and endpoint_id = $2 and state = 'pending'`,
      [
        delivery.event_id,
        delivery.endpoint_id,
        result === 'retrying' ? 'pending' : result,
        new Date(result === 'retrying' ? nextAttemptMs : dependencies.now()),
      ],
    );
    await countEventDeliveryAttempt(tx, delivery.event_id);
    await refreshEventDeliveryState(tx, delivery.event_id);
  });
  return result;
}

/** See Webhooks.deliverDue. */
export async function deliverDue(dependencies: WebhookRuntime, limit: number): Promise<DeliveryReport> {
  assert(
    Number.isSafeInteger(limit) && limit >= 1 && limit <= limits.webhookDeliveryBatchMax,
    'deliverDue limit is within webhookDeliveryBatchMax',
  );
  const report: DeliveryReport = {
    eventsDispatched: await dispatchNewEvents(dependencies, limit),
    attempts: 0,
    delivered: 0,
    retrying: 0,
    failed: 0,
    canceled: 0,
  };
  const claimed = await claimDue(dependencies, limit);
  let next = 0;
  const runner = async () => {
    while (next < claimed.length) {
      const delivery = claimed[next];
      next += 1;
      assert(delivery !== undefined, 'claimed delivery index in range');
      try {
        const result = await deliverOne(dependencies, delivery);
        if (result !== 'canceled') report.attempts += 1;
        report[result] += 1;
      } catch (error) {
        // Left leased: it comes due again when the lease runs out.
        dependencies.logger?.error(
          { err: error, event_id: delivery.event_id, endpoint_id: delivery.endpoint_id },
          'webhook delivery failed unexpectedly; retrying after its lease',
        );
      }
    }
  };
  const runnerCount = Math.min(limits.webhookDeliveryConcurrencyMax, claimed.length);
  await Promise.all(Array.from({ length: runnerCount }, runner));
  return report;
}
