import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTags, operationDocs } from '../../src/api-reference.js';
import { startCardPlatform, type CardTestPlatform } from '../support/cards.js';

/**
 * The OpenAPI document describes every operation for a reader: a summary and a tag each, how it
 * authenticates, /v1's form bodies, and a response schema for every /v1 operation's success.
 */
/** With cards configured, as `npm start` runs: every route exists. */
let cardPlatform: CardTestPlatform;

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, unknown> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

interface Document {
  info: { description?: string };
  tags?: { name: string }[];
  components: { securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

let document: Document;
let operations: { key: string; path: string; operation: Operation }[];

beforeAll(async () => {
  cardPlatform = await startCardPlatform();
  document = (await (await fetch(`${cardPlatform.platform.baseUrl}/openapi.json`)).json()) as Document;
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, path, operation })),
  );
});

afterAll(async () => {
  await cardPlatform.close();
});

describe('the OpenAPI document', () => {
  it('has a success response schema for every /v1 operation', () => {
    const v1 = operations.filter(({ path }) => path.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThanOrEqual(25);
    const missing = v1
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('2'));
        return success?.[1].content?.['application/json']?.schema === undefined;
      })
      .map(({ key }) => key);
    expect(missing).toEqual([]);
  });

  it('gives every operation a summary and one declared tag', () => {
    expect(operations.length).toBeGreaterThanOrEqual(85);
    const declared = new Set((document.tags ?? []).map((tag) => tag.name));
    expect([...declared].sort()).toEqual(apiTags.map((tag) => tag.name).sort());
    const unsummarized = operations
      .filter(({ operation }) => (operation.summary ?? '').trim() === '')
      .map(({ key }) => key);
    expect(unsummarized).toEqual([]);
    const untagged = operations
      .filter(({ operation }) => operation.tags?.length !== 1 || !declared.has(operation.tags[0]!))
      .map(({ key }) => key);
    expect(untagged).toEqual([]);
  });

  it('documents no operation that does not exist (src/api-reference.ts matches the routes)', () => {
    const keys = new Set(operations.map(({ key }) => key));
    expect(Object.keys(operationDocs).filter((key) => !keys.has(key))).toEqual([]);
  });

  it('says how each API authenticates, and that /v1 takes form bodies', () => {
    const schemes = Object.keys(document.components.securitySchemes).sort();
    expect(schemes).toEqual(['adminToken', 'merchantSession', 'secretKey', 'walletToken']);
    const byKey = new Map(operations.map(({ key, operation }) => [key, operation]));
    expect(byKey.get('POST /v1/payment_intents')?.security).toContainEqual({ secretKey: [] });
    expect(Object.keys(byKey.get('POST /v1/payment_intents')?.requestBody?.content ?? {})).toEqual([
      'application/x-www-form-urlencoded',
      'application/json',
    ]);
    expect(byKey.get('GET /wallet/v1/balances')?.security).toEqual([{ walletToken: [] }]);
    expect(byKey.get('POST /wallet/v1/sessions')?.security).toEqual([]);
    expect(byKey.get('POST /admin/v1/merchants')?.security).toEqual([{ adminToken: [] }]);
    const unsecured = operations
      .filter(({ path }) => path.startsWith('/v1/'))
      .filter(({ operation }) => !(operation.security ?? []).some((requirement) => 'secretKey' in requirement))
      .map(({ key }) => key);
    expect(unsecured).toEqual([]);
    // The introduction shows both the curl and the Stripe SDK way in.
    expect(document.info.description).toContain('curl http://127.0.0.1:4000/v1/payment_intents');
    expect(document.info.description).toContain("import Stripe from 'stripe'");
  });
});
