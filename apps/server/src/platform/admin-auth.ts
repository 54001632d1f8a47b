import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, assert } from './errors.js';
import { limits } from './limits.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Reads the token from `Authorization: Bearer <token>`; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

/**
 * An onRequest hook for everything under /admin/v1: the caller must present the admin token.
 * Both sides are hashed first so the comparison takes the same time whatever the length or
 * content of the presented token.
 */
export function createAdminGuard(options: { token: string }) {
  assert(options.token.length >= limits.adminTokenLengthMin, 'the admin token is too short');
  const expected = digest(options.token);
  return async function adminGuard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const presented = bearerToken(request.headers.authorization);
    const matches = timingSafeEqual(digest(presented ?? ''), expected) && presented !== null;
    if (!matches) {
      void reply.header('www-authenticate', 'Bearer realm="yunpay-admin"');
      throw new AppError('unauthorized', {
        message: 'This route needs the admin token: send Authorization: Bearer <YUNPAY_ADMIN_TOKEN>.',
      });
    }
  };
}
