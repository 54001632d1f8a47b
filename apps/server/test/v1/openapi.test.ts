import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type TestPlatform } from '../support/platform.js';

/** The OpenAPI document describes every /v1 operation's answer: a response schema for its success. */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform();
});

afterAll(async () => {
  await platform.close();
});

describe('the OpenAPI document of /v1', () => {
  it('has a success response schema for every /v1 operation', async () => {
    const document = (await (await fetch(`${platform.baseUrl}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
      >;
    };
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
      );
    expect(operations.length).toBeGreaterThanOrEqual(25);
    const missing = operations
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('2'));
        return success?.[1].content?.['application/json']?.schema === undefined;
      })
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
  });
});
