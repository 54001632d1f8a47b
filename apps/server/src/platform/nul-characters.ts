import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000: a NUL that reaches a query fails it with a 500.
 * Every request is therefore checked once, before validation (app.ts registers the hook for all
 * routes), and a NUL anywhere in the path, the path parameters, the query or the body (keys and
 * values, at any depth) is a 400 parameter_invalid_characters naming the parameter.
 */

type Segment = string;

/** A value still to look at, linked to its parent so that paths are only built for a hit. */
interface Visit {
  node: unknown;
  key: Segment | null;
  parent: Visit | null;
}

function pathOf(visit: Visit | null, last?: Segment): Segment[] {
  const path: Segment[] = last === undefined ? [] : [last];
  for (let at = visit; at !== null; at = at.parent) if (at.key !== null) path.push(at.key);
  return path.reverse();
}

/** Binary values (a Buffer body) are not text; everything else a parser makes is walked. */
function isBinary(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/**
 * The path of keys to the first NUL in a parsed request value (a key with a NUL ends the path),
 * or null when there is none. Iterative, so that a deeply nested JSON body cannot overflow the
 * stack; the work is linear in the size of the value, which the body size limit bounds.
 */
export function nulCharacterPath(value: unknown): Segment[] | null {
  const stack: Visit[] = [{ node: value, key: null, parent: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const node = visit.node;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return pathOf(visit);
      continue;
    }
    if (node === null || typeof node !== 'object' || isBinary(node)) continue;
    if (Array.isArray(node)) {
      for (let index = node.length - 1; index >= 0; index -= 1) {
        stack.push({ node: node[index] as unknown, key: String(index), parent: visit });
      }
      continue;
    }
    const entries: [string, unknown][] = Object.entries(node as Record<string, unknown>);
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, child] = entries[index]!;
      if (key.includes('\u0000')) return pathOf(visit, key);
      stack.push({ node: child, key, parent: visit });
    }
  }
  return null;
}

/** How an API names nested parameters: `metadata.order_id` (ours) or `metadata[order_id]` (Stripe's /v1). */
export type ParamNotation = 'dotted' | 'brackets';

/** A parameter name safe to print: control characters escaped (`\u0000`). */
function paramName(path: readonly Segment[], notation: ParamNotation): string {
  const printable = path.map((segment) => JSON.stringify(segment).slice(1, -1));
  if (notation === 'dotted' || printable.length === 0) return printable.join('.');
  const [head, ...rest] = printable;
  return `${head}${rest.map((segment) => `[${segment}]`).join('')}`;
}

function nulError(where: string, path: readonly Segment[], notation: ParamNotation): AppError {
  const param = paramName(path, notation);
  return new AppError('parameter_invalid_characters', {
    message:
      param === ''
        ? `The ${where} contains a NUL character (U+0000), which is not allowed.`
        : `The ${where} parameter ${param} contains a NUL character (U+0000), which is not allowed.`,
    ...(param === '' ? {} : { param }),
  });
}

/** Throws parameter_invalid_characters when a parsed value (a query, a body) holds a NUL. */
export function assertNoNulCharacters(
  where: 'path' | 'query' | 'body',
  value: unknown,
  notation: ParamNotation = 'dotted',
): void {
  const path = nulCharacterPath(value);
  if (path !== null) throw nulError(where, path, notation);
}

/** What every route runs before validation (app.ts): path, parameters, query and body. */
export function rejectNulCharacters(request: FastifyRequest, notation: ParamNotation): void {
  assertNoNulCharacters('path', request.params, notation);
  // A %00 outside any parameter (a wildcard route, a future static one) is refused all the same.
  const rawPath = (request.raw.url ?? '').split('?')[0] ?? '';
  if (/%00/i.test(rawPath)) throw nulError('path', [], notation);
  assertNoNulCharacters('query', request.query, notation);
  assertNoNulCharacters('body', request.body, notation);
}
