import { checkIntegerOption, sdkLimits } from './limits.js';

/** A page of a list, as every list route answers (Stripe's envelope; `url` only on /v1). */
export interface List<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url?: string;
}

export interface AutoPaginateOptions {
  /** Stop after this many items (default 10,000; at most 1,000,000). */
  maxItems?: number;
}

/**
 * A list call: await it for the first page, or iterate it (`for await`) to walk every page
 * (starting_after the last id of each page; ending_before the first id when the call went
 * backwards). Iteration reuses the first page the promise already fetched.
 */
export interface ListPromise<T> extends Promise<List<T>>, AsyncIterable<T> {
  autoPaginate(options?: AutoPaginateOptions): AsyncIterableIterator<T>;
  autoPagingToArray(options?: AutoPaginateOptions): Promise<T[]>;
}

export type PageFetcher<T> = (cursor: { startingAfter?: string; endingBefore?: string }) => Promise<List<T>>;

/**
 * Walks pages until has_more is false or maxItems are yielded. A page that claims more but is
 * empty, or a cursor that does not move, ends the walk with an error instead of looping.
 */
export async function* autoPaginate<T extends { id: string }>(
  fetchPage: PageFetcher<T>,
  options: AutoPaginateOptions & { backwards?: boolean; firstPage?: Promise<List<T>> } = {},
): AsyncGenerator<T, void, undefined> {
  const maxItems = checkIntegerOption(
    'maxItems',
    options.maxItems ?? sdkLimits.autoPaginateItemsDefault,
    1,
    sdkLimits.autoPaginateItemsMax,
  );
  let yielded = 0;
  let page = await (options.firstPage ?? fetchPage({}));
  const seenCursors = new Set<string>();
  for (;;) {
    for (const item of page.data) {
      yield item;
      yielded += 1;
      if (yielded >= maxItems) return;
    }
    if (!page.has_more) return;
    const edge = options.backwards === true ? page.data[0] : page.data[page.data.length - 1];
    if (edge === undefined) throw new Error('a list page said has_more but held no items');
    if (seenCursors.has(edge.id)) throw new Error(`pagination did not advance past ${edge.id}`);
    seenCursors.add(edge.id);
    page = await fetchPage(options.backwards === true ? { endingBefore: edge.id } : { startingAfter: edge.id });
  }
}

/** Makes a ListPromise from the first page's fetch and the way to fetch the next ones. */
export function listPromise<T extends { id: string }>(
  fetchPage: PageFetcher<T>,
  options: { backwards?: boolean } = {},
): ListPromise<T> {
  const first = fetchPage({});
  // An unawaited first page that fails must not crash the process when only iteration is used.
  first.catch(() => undefined);
  const iterate = (paginate: AutoPaginateOptions = {}): AsyncIterableIterator<T> =>
    autoPaginate(fetchPage, { ...paginate, firstPage: first, ...options });
  return Object.assign(first, {
    autoPaginate: iterate,
    async autoPagingToArray(paginate: AutoPaginateOptions = {}): Promise<T[]> {
      const items: T[] = [];
      for await (const item of iterate(paginate)) items.push(item);
      return items;
    },
    [Symbol.asyncIterator]: () => iterate(),
  });
}
