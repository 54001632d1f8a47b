import { createMerchantSession, type MerchantClient, type MerchantSession } from '@yunpay/sdk';

/**
 * The merchant's session for the POS and dashboard: the SDK's cookie-session mode. The secret key
 * is typed once and sent once (signIn); the server answers with an httpOnly cookie (script cannot
 * read it) and a CSRF token the SDK keeps in memory only, never in localStorage. A page reload
 * asks for the token again (resume).
 */
let session: MerchantSession | null = null;

export function merchantSession(): MerchantSession {
  session ??= createMerchantSession({ baseUrl: window.location.origin, retries: { maxRetries: 1 } });
  return session;
}

/** The /v1 client of the signed-in merchant. */
export function merchantClient(): MerchantClient {
  return merchantSession().client;
}

/** The code to show for a failed call (Stripe's decline code first). */
export function errorCode(error: unknown): string {
  const sdk = error as { declineCode?: string | null; code?: string | null; kind?: string };
  return sdk.declineCode ?? sdk.code ?? sdk.kind ?? 'error';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
