import type { FastifyRequest } from 'fastify';

/**
 * What a browser says of where a request comes from, for requests a cookie authenticates:
 * `Sec-Fetch-Site` and `Origin`. 'unstated' when it sends neither (not a browser, or a very old
 * one); 'cross-site' when either names another site; else 'same-origin'.
 */
export type RequestSite = 'same-origin' | 'cross-site' | 'unstated';

export function requestSite(request: FastifyRequest): RequestSite {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (site === undefined && origin === undefined) return 'unstated';
  if (site !== undefined && site !== 'same-origin') return 'cross-site';
  if (origin !== undefined && originHost(origin) !== request.host) return 'cross-site';
  return 'same-origin';
}

/** The host (and port) of an Origin header, or null for `null` and anything unparsable. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
