import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Stripe's example objects for the resources our /v1 API implements (test/fixtures/stripe, MIT,
 * with their source and licence beside them). Read from inside the repository only.
 */
export const stripeFixtures = JSON.parse(
  readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/stripe/fixtures3.json'), 'utf8'),
) as { resources: Record<string, Record<string, unknown>> };
