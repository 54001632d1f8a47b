import type { SqlExecutor, SqlParam } from '../platform/db.js';
import { AppError, assert } from '../platform/errors.js';
import { limits } from '../platform/limits.js';

/** Stripe's list envelope. `url` is the list's path, e.g. `/v1/customers`. */
export function listResponse<T>(options: { data: T[]; hasMore: boolean; url: string }) {
  return { object: 'list' as const, data: options.data, has_more: options.hasMore, url: options.url };
}

export type CreatedFilter = number | { gt?: number; gte?: number; lt?: number; lte?: number };

/** What a list request asks for, from the V1ListParams query. */
export interface PageRequest {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: CreatedFilter;
}

export function pageRequestFrom(query: {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
  created?: CreatedFilter;
}): PageRequest {
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw new AppError('parameter_invalid', {
      message: 'You may only specify one of these parameters: ending_before, starting_after.',
      param: 'ending_before',
    });
  }
  return {
    limit: query.limit ?? limits.v1PageSizeDefault,
    ...(query.starting_after === undefined ? {} : { startingAfter: query.starting_after }),
    ...(query.ending_before === undefined ? {} : { endingBefore: query.ending_before }),
    ...(query.created === undefined ? {} : { created: query.created }),
  };
}

export interface PageQuery {
  /** A table owned by the caller, with account_id, livemode, id and created_at columns. */
  table: string;
  columns: string;
  accountId: string;
  livemode: boolean;
  page: PageRequest;
  /** Extra conditions, with $n numbered after the ones fetchPage uses: write them with `?`. */
  where?: { sql: string; params: SqlParam[] }[];
  /** The Stripe object name used in "No such …" when a cursor id is unknown. */
  objectName: string;
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * One page, newest first (created_at desc, id desc). starting_after continues towards older
 * objects; ending_before returns the page just before (newer than) the cursor, still newest first.
 * A cursor must be an object of the same account and mode (else resource_missing).
 */
export async function fetchPage<Row>(db: SqlExecutor, query: PageQuery): Promise<{ rows: Row[]; hasMore: boolean }> {
  assert(identifier.test(query.table), 'list table must be a plain identifier');
  const { page } = query;
  assert(page.limit >= 1 && page.limit <= limits.pageSizeMax, 'page limit out of range');
  const params: SqlParam[] = [query.accountId, query.livemode];
  const conditions = ['account_id = $1', 'livemode = $2'];
  const add = (sql: string, values: SqlParam[]): void => {
    let text = sql;
    for (const value of values) {
      params.push(value);
      text = text.replace('?', `$${params.length}`);
    }
    assert(!text.includes('?'), 'every ? in a list condition needs a value');
    conditions.push(text);
  };
  const created = page.created;
  if (created !== undefined) {
    if (typeof created === 'number') {
      add('created_at >= to_timestamp(?) and created_at < to_timestamp(?)', [created, created + 1]);
    } else {
      if (created.gt !== undefined) add('created_at >= to_timestamp(?)', [created.gt + 1]);
      if (created.gte !== undefined) add('created_at >= to_timestamp(?)', [created.gte]);
      if (created.lt !== undefined) add('created_at < to_timestamp(?)', [created.lt]);
      if (created.lte !== undefined) add('created_at < to_timestamp(?)', [created.lte + 1]);
    }
  }
  for (const condition of query.where ?? []) add(condition.sql, condition.params);
  const cursorId = page.startingAfter ?? page.endingBefore;
  const backwards = page.endingBefore !== undefined;
  if (cursorId !== undefined) {
    const cursor = await db.query<{ id: string }>(
      `select id from ${query.table} where account_id = $1 and livemode = $2 and id = $3`,
      [query.accountId, query.livemode, cursorId],
    );
    const row = cursor[0];
    if (row === undefined) {
      throw new AppError('not_found', {
        message: `No such ${query.objectName}: '${cursorId}'`,
        param: backwards ? 'ending_before' : 'starting_after',
      });
    }
    // The cursor's own timestamp is read in SQL: a JavaScript Date would lose its microseconds.
    add(
      `(created_at, id) ${backwards ? '>' : '<'} (select created_at, id from ${query.table}
         where account_id = $1 and livemode = $2 and id = ?)`,
      [row.id],
    );
  }
  params.push(page.limit + 1);
  const order = backwards ? 'created_at asc, id asc' : 'created_at desc, id desc';
  const rows = await db.query<Row>(
    `select ${query.columns} from ${query.table} where ${conditions.join(' and ')} order by ${order} limit $${params.length}`,
    params,
  );
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (backwards) pageRows.reverse();
  return { rows: pageRows, hasMore };
}
