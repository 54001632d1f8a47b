import { limits } from './limits.js';

/**
 * The path of a request as an error message may quote it: without the query, and cut to
 * limits.httpErrorPathLengthMax characters, so that a 16 KB URL is not echoed back whole.
 */
export function requestPathForMessage(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.length <= limits.httpErrorPathLengthMax ? path : `${path.slice(0, limits.httpErrorPathLengthMax)}…`;
}
