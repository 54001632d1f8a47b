/**
 * Stripe's form encoding with bracket notation and indexed arrays, as stripe-node sends it:
 * `metadata[order_id]=6735`, `expand[0]=customer`, `created[gte]=1700000000`. `undefined` fields
 * are left out; `null` and `''` are sent as an empty value, which /v1 reads as "unset".
 */
export function toForm(value: Record<string, unknown>): string {
  const pairs: string[] = [];
  const walk = (prefix: string, node: unknown): void => {
    if (node === undefined) return;
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(`${prefix}[${index}]`, item));
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) walk(prefix === '' ? key : `${prefix}[${key}]`, child);
    } else {
      const text =
        typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' || typeof node === 'bigint'
          ? String(node)
          : '';
      pairs.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(text)}`);
    }
  };
  walk('', value);
  return pairs.join('&');
}

/** A flat query string for /wallet/v1 and /admin/v1 (no nesting); undefined values are left out. */
export function toFlatQuery(value: Record<string, string | number | boolean | undefined>): string {
  const pairs: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(child))}`);
  }
  return pairs.join('&');
}

/** A path segment from an id the caller gave: encoded, and never empty. */
export function segment(id: string): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('an id must be a non-empty string');
  return encodeURIComponent(id);
}
