import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { limits } from '../../src/platform/limits.js';
import { V1Boolean, V1Integer, V1Metadata, coerceToSchema, parseForm } from '../../src/v1/index.js';

describe('form bodies with bracket notation', () => {
  it('parses nested objects, pushed and indexed arrays', () => {
    expect(
      parseForm(
        'metadata[order_id]=6735&expand[]=customer&expand[]=latest_charge&items[0][price]=x&items[1][price]=y&payment_method_data[wallet][code]=8812&note=a+b%26c',
      ),
    ).toEqual({
      metadata: { order_id: '6735' },
      expand: ['customer', 'latest_charge'],
      items: { 0: { price: 'x' }, 1: { price: 'y' } },
      payment_method_data: { wallet: { code: '8812' } },
      note: 'a b&c',
    });
  });

  it('refuses malformed, conflicting, too deep, too many and prototype-polluting parameters', () => {
    expect(() => parseForm('a[b=1')).toThrow();
    expect(() => parseForm('a=1&a[b]=2')).toThrow(/Conflicting/);
    expect(() => parseForm('a[b][c][d][e][f]=1')).toThrow(/nested/);
    expect(parseForm('a[b][c][d][e]=1')).toEqual({ a: { b: { c: { d: { e: '1' } } } } });
    expect(() => parseForm(Array.from({ length: limits.v1BodyKeysMax + 1 }, (_, i) => `k${i}=1`).join('&'))).toThrow(
      /at most/,
    );
    expect(() => parseForm('__proto__[polluted]=1')).toThrow();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => parseForm('a=%E0%A4%A')).toThrow(/percent/);
  });

  it('coerces by the schema and reports Stripe codes', () => {
    const schema = Type.Object(
      {
        amount: V1Integer({ minimum: 1 }),
        capture: Type.Optional(V1Boolean()),
        items: Type.Optional(Type.Array(Type.Object({ price: Type.String() }, { additionalProperties: false }))),
        metadata: Type.Optional(V1Metadata),
      },
      { additionalProperties: false },
    );
    expect(
      coerceToSchema(schema, { amount: '1099', capture: 'false', items: { 1: { price: 'y' }, 0: { price: 'x' } } }),
    ).toEqual({ amount: 1099, capture: false, items: [{ price: 'x' }, { price: 'y' }] });
    expect(coerceToSchema(schema, { amount: 5, metadata: { n: 3 } })).toEqual({ amount: 5, metadata: { n: '3' } });
    const codeOf = (value: unknown) => {
      try {
        coerceToSchema(schema, value);
        return null;
      } catch (error) {
        return [(error as { code: string }).code, (error as { param?: string }).param];
      }
    };
    expect(codeOf({})).toEqual(['parameter_missing', 'amount']);
    expect(codeOf({ amount: '1.5' })).toEqual(['parameter_invalid_integer', 'amount']);
    expect(codeOf({ amount: '' })).toEqual(['parameter_invalid_empty', 'amount']);
    expect(codeOf({ amount: 1, capture: 'yes' })).toEqual(['parameter_invalid', 'capture']);
    expect(codeOf({ amount: 1, items: { 0: { price: 'x', qty: '1' } } })).toEqual([
      'parameter_unknown',
      'items[0][qty]',
    ]);
    expect(codeOf({ amount: 1, metadata: { ['k'.repeat(41)]: 'v' } })).toEqual([
      'parameter_invalid',
      `metadata[${'k'.repeat(41)}]`,
    ]);
  });
});
