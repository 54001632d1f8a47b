import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { limits } from '../../../platform/limits.js';
import type { CheckedTarget } from './address-policy.js';

/** What one POST to an endpoint came to; never throws. */
export interface PostOutcome {
  /** The HTTP status, or null when no response arrived. */
  statusCode: number | null;
  /** Why the attempt failed without a status (timeout, connection refused …), else null. */
  error: string | null;
  durationMs: number;
  /** The start of the response body (at most webhookResponseExcerptBytesMax bytes, as UTF-8). */
  responseExcerpt: string;
}

/**
 * POSTs to the address the policy checked (a lookup that answers only that address, so DNS is not
 * asked again), follows no redirect, reads at most webhookResponseBytesMax of the answer and gives
 * up after webhookDeliveryTimeoutMs in all.
 */
export function postToTarget(options: {
  target: CheckedTarget;
  body: string;
  headers: Record<string, string>;
}): Promise<PostOutcome> {
  const { target } = options;
  const started = performance.now();
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    const { address, family } = target.address;
    if ((lookupOptions as { all?: boolean }).all === true) {
      (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    } else {
      callback(null, address, family);
    }
  };
  const transport = target.url.protocol === 'https:' ? https : http;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const excerpt = Buffer.concat(chunks).subarray(0, limits.webhookResponseExcerptBytesMax).toString('utf8');
      resolve({
        statusCode,
        error,
        durationMs: Math.max(0, Math.round(performance.now() - started)),
        responseExcerpt: excerpt,
      });
    };
    const request = transport.request(target.url, {
      method: 'POST',
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      lookup: pinned,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish(null, `timed out after ${limits.webhookDeliveryTimeoutMs} ms`);
      request.destroy();
    }, limits.webhookDeliveryTimeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish(null, error.code ?? error.message));
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? null;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received <= limits.webhookResponseBytesMax) chunks.push(chunk);
        else {
          // Enough: the status is what counts, and a huge answer must not hold the worker.
          finish(statusCode, null);
          response.destroy();
        }
      });
      response.on('end', () => finish(statusCode, null));
      response.on('error', () => finish(statusCode, null));
      response.on('close', () => finish(statusCode, null));
    });
    request.end(options.body);
  });
}
