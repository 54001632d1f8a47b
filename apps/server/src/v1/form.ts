import { AppError } from '../platform/errors.js';
import { limits } from '../platform/limits.js';

/**
 * Stripe's form encoding: `metadata[order_id]=6735`, `expand[]=customer`, `items[0][price]=x`.
 * Indexed segments (`[0]`) become object keys here; the schema coercion (schema.ts) turns an
 * object of indexes into an array where the schema expects one. Bounded: limits.v1BodyKeysMax
 * parameters, limits.v1BodyDepthMax levels.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

const forbiddenNames = new Set(['__proto__', 'prototype', 'constructor']);
const segmentPattern = /\[([^[\]]*)\]/g;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    throw new AppError('invalid_request', { message: 'The request contains malformed percent-encoding.' });
  }
}

/** `a[b][]` → ['a', 'b', '']; throws on a malformed name. */
function nameSegments(name: string): string[] {
  const open = name.indexOf('[');
  const head = open === -1 ? name : name.slice(0, open);
  const segments = [head];
  if (open !== -1) {
    const rest = name.slice(open);
    let consumed = 0;
    for (const match of rest.matchAll(segmentPattern)) {
      if (match.index !== consumed) break;
      segments.push(match[1] ?? '');
      consumed += match[0].length;
    }
    if (consumed !== rest.length) {
      throw new AppError('invalid_request', { message: `Invalid parameter name: ${name}.`, param: head });
    }
  }
  if (head === '') throw new AppError('invalid_request', { message: `Invalid parameter name: ${name}.` });
  for (const segment of segments) {
    if (forbiddenNames.has(segment))
      throw new AppError('parameter_unknown', { param: name, message: `Received unknown parameter: ${name}` });
  }
  if (segments.length > limits.v1BodyDepthMax) {
    throw new AppError('invalid_request', {
      message: `Parameters may be nested at most ${limits.v1BodyDepthMax} levels deep (${name}).`,
      param: head,
    });
  }
  for (let index = 0; index < segments.length - 1; index += 1) {
    if (index > 0 && segments[index] === '') {
      throw new AppError('invalid_request', { message: `[] may only end a parameter name (${name}).`, param: head });
    }
  }
  return segments;
}

function isRecord(value: FormValue | undefined): value is { [key: string]: FormValue } {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

export function parseForm(text: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  if (text === '') return root;
  const pairs = text.split('&').filter((pair) => pair !== '');
  if (pairs.length > limits.v1BodyKeysMax) {
    throw new AppError('invalid_request', {
      message: `A request may carry at most ${limits.v1BodyKeysMax} parameters.`,
    });
  }
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const name = decode(equals === -1 ? pair : pair.slice(0, equals));
    const value = equals === -1 ? '' : decode(pair.slice(equals + 1));
    const segments = nameSegments(name);
    let container: Record<string, FormValue> | FormValue[] = root;
    for (let index = 0; index < segments.length; index += 1) {
      const segment = segments[index] ?? '';
      const last = index === segments.length - 1;
      const next = segments[index + 1];
      if (Array.isArray(container)) {
        // Only `name[]` (a last segment) reaches an array.
        container.push(value);
        break;
      }
      if (last) {
        if (isRecord(container[segment]) || Array.isArray(container[segment])) {
          throw new AppError('invalid_request', { message: `Conflicting values for ${name}.`, param: segments[0] });
        }
        container[segment] = value;
        break;
      }
      const existing: FormValue | undefined = container[segment];
      const wantArray = next === '' && index + 1 === segments.length - 1;
      if (existing === undefined) {
        const created: FormValue = wantArray ? [] : {};
        container[segment] = created;
        container = created;
      } else if (typeof existing === 'string' || Array.isArray(existing) !== wantArray) {
        throw new AppError('invalid_request', { message: `Conflicting values for ${name}.`, param: segments[0] });
      } else {
        container = existing;
      }
    }
  }
  return root;
}

/** The same bounds for JSON bodies: nesting and number of leaf values. */
export function checkShape(value: unknown): void {
  let leaves = 0;
  const visit = (node: unknown, depth: number): void => {
    if (node === null || typeof node !== 'object') {
      leaves += 1;
      if (leaves > limits.v1BodyKeysMax) {
        throw new AppError('invalid_request', {
          message: `A request may carry at most ${limits.v1BodyKeysMax} parameters.`,
        });
      }
      return;
    }
    if (depth >= limits.v1BodyDepthMax) {
      throw new AppError('invalid_request', {
        message: `Parameters may be nested at most ${limits.v1BodyDepthMax} levels deep.`,
      });
    }
    for (const child of Object.values(node)) visit(child, depth + 1);
  };
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) visit(child, 1);
  }
}
