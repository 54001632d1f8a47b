import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AppError } from '../platform/errors.js';
import { limits } from '../platform/limits.js';
import { bracketParam } from './errors.js';

/**
 * TypeBox schema helpers for /v1 parameters. Form-encoded values are all strings, so before a
 * route's schema validates, coerceToSchema (run by the /v1 plugin) converts by the schema:
 * numeric strings to integers, "true"/"false" to booleans, objects of indexes (`items[0]`) to
 * arrays, and reports Stripe's errors: parameter_unknown, parameter_missing,
 * parameter_invalid_integer, parameter_invalid_empty. Handlers then receive typed values.
 */

/** An integer given as a JSON number or a decimal string (`amount=1099`). */
export function V1Integer(options: { minimum?: number; maximum?: number; description?: string } = {}) {
  return Type.Integer({
    minimum: options.minimum ?? Number.MIN_SAFE_INTEGER,
    maximum: options.maximum ?? Number.MAX_SAFE_INTEGER,
    ...(options.description === undefined ? {} : { description: options.description }),
  });
}

/** A boolean given as JSON true/false or the strings "true"/"false". */
export function V1Boolean(options: { description?: string } = {}) {
  return Type.Boolean(options);
}

export function V1String(
  options: { minLength?: number; maxLength?: number; pattern?: string; description?: string } = {},
) {
  return Type.String({ maxLength: limits.v1StringLengthMax, ...options });
}

/** An id parameter (`cus_…`). */
export function V1Id(options: { description?: string } = {}) {
  return Type.String({ minLength: 1, maxLength: limits.v1ObjectIdLengthMax, ...options });
}

/** A parameter an update may unset with an empty string (Stripe) or JSON null. */
export function V1Unsettable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Literal(''), Type.Null()]);
}

/** Stripe's address parameter (customers, billing details, shipping). */
export const V1Address = Type.Object(
  {
    city: Type.Optional(V1String({ maxLength: 200 })),
    country: Type.Optional(V1String({ maxLength: 2 })),
    line1: Type.Optional(V1String({ maxLength: 200 })),
    line2: Type.Optional(V1String({ maxLength: 200 })),
    postal_code: Type.Optional(V1String({ maxLength: 20 })),
    state: Type.Optional(V1String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** The address parameter of an update: any field may be unset with "" or null. */
export const V1AddressUpdate = Type.Object(
  {
    city: Type.Optional(V1Unsettable(V1String({ maxLength: 200 }))),
    country: Type.Optional(V1Unsettable(V1String({ maxLength: 2 }))),
    line1: Type.Optional(V1Unsettable(V1String({ maxLength: 200 }))),
    line2: Type.Optional(V1Unsettable(V1String({ maxLength: 200 }))),
    postal_code: Type.Optional(V1Unsettable(V1String({ maxLength: 20 }))),
    state: Type.Optional(V1Unsettable(V1String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

/**
 * Stripe's metadata: at most 50 keys, keys up to 40 characters, values up to 500. On update a
 * key set to "" is deleted, and `metadata=""` clears it all (see applyMetadataUpdate).
 */
export const V1Metadata = Type.Union([
  Type.Record(Type.String(), Type.String({ maxLength: limits.v1MetadataValueLengthMax }), {
    'x-v1': 'metadata',
    maxProperties: limits.v1MetadataKeysMax,
  }),
  Type.Literal(''),
  Type.Null(),
]);

/** `expand[]=customer&expand[]=data.customer` */
export const V1Expand = Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
  maxItems: limits.v1ExpandPathsMax,
});

/** `created=…` or `created[gte]=…&created[lt]=…`, unix seconds. */
export const V1CreatedFilter = Type.Union([
  V1Integer({ minimum: 0 }),
  Type.Object(
    {
      gt: Type.Optional(V1Integer({ minimum: 0 })),
      gte: Type.Optional(V1Integer({ minimum: 0 })),
      lt: Type.Optional(V1Integer({ minimum: 0 })),
      lte: Type.Optional(V1Integer({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
]);

/** The pagination parameters every list takes. */
export const V1ListParams = {
  limit: Type.Optional(V1Integer({ minimum: 1, maximum: limits.pageSizeMax })),
  starting_after: Type.Optional(V1Id()),
  ending_before: Type.Optional(V1Id()),
  expand: Type.Optional(V1Expand),
} as const;

/** undefined: not given; null: unset ("" or null); otherwise the new value. */
export function toUpdate<T>(value: T | '' | null | undefined): T | null | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value === null) return null;
  return value;
}

export type Metadata = Record<string, string>;

/** The metadata after an update (keys set to "" deleted), checked against Stripe's limits. */
export function applyMetadataUpdate(current: Metadata, update: Metadata | '' | null | undefined): Metadata {
  if (update === undefined) return current;
  if (update === '' || update === null) return {};
  const next: Metadata = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > limits.v1MetadataKeysMax) {
    throw new AppError('parameter_invalid', {
      message: `Invalid metadata: metadata can have up to ${limits.v1MetadataKeysMax} keys.`,
      param: 'metadata',
    });
  }
  return next;
}

type Path = (string | number)[];

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  additionalProperties?: boolean | JsonSchemaNode;
  patternProperties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  const?: unknown;
  minLength?: number;
  'x-v1'?: string;
}

const integerText = /^-?\d{1,16}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unknownParameter(path: Path): AppError {
  const param = bracketParam(path) ?? '';
  return new AppError('parameter_unknown', { message: `Received unknown parameter: ${param}`, param });
}

function checkMetadata(value: Record<string, unknown>, path: Path): void {
  const param = bracketParam(path);
  if (Object.keys(value).length > limits.v1MetadataKeysMax) {
    throw new AppError('parameter_invalid', {
      message: `Invalid metadata: metadata can have up to ${limits.v1MetadataKeysMax} keys.`,
      ...(param === undefined ? {} : { param }),
    });
  }
  for (const [key, entry] of Object.entries(value)) {
    if (key === '' || key.length > limits.v1MetadataKeyLengthMax) {
      throw new AppError('parameter_invalid', {
        message: `Invalid metadata: metadata keys must be 1 to ${limits.v1MetadataKeyLengthMax} characters long.`,
        param: bracketParam([...path, key]) ?? 'metadata',
      });
    }
    if (typeof entry !== 'string' || entry.length > limits.v1MetadataValueLengthMax) {
      throw new AppError('parameter_invalid', {
        message: `Invalid metadata: metadata values must be strings of at most ${limits.v1MetadataValueLengthMax} characters.`,
        param: bracketParam([...path, key]) ?? 'metadata',
      });
    }
  }
}

function coerce(schema: JsonSchemaNode, value: unknown, path: Path): unknown {
  if (schema.anyOf !== undefined) {
    // The first branch that accepts the coerced value wins; else the first non-literal branch
    // reports its error (so `amount=abc` says "invalid integer", not "not a union").
    // Only AppErrors are thrown by coerce (anything else propagates at once).
    let firstError: AppError | null = null;
    for (const branch of schema.anyOf) {
      try {
        const candidate = coerce(branch, value, path);
        if (Value.Check(branch as TSchema, candidate)) return candidate;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        if (firstError === null && branch.const === undefined && branch.type !== 'null') firstError = error;
      }
    }
    if (firstError !== null) throw firstError;
    return value;
  }
  switch (schema.type) {
    case 'integer':
    case 'number': {
      if (typeof value === 'number') {
        if (schema.type === 'integer' && !Number.isSafeInteger(value)) throw invalidInteger(value, path);
        return value;
      }
      if (typeof value !== 'string') return value;
      if (value === '') throw emptyValue(path);
      const numeric = schema.type === 'integer' ? integerText.test(value) : /^-?\d+(\.\d+)?$/.test(value);
      const parsed = Number(value);
      if (!numeric || (schema.type === 'integer' && !Number.isSafeInteger(parsed))) throw invalidInteger(value, path);
      return parsed;
    }
    case 'boolean': {
      if (value === 'true') return true;
      if (value === 'false') return false;
      if (value === '') throw emptyValue(path);
      if (typeof value === 'string') {
        const param = bracketParam(path);
        throw new AppError('parameter_invalid', {
          message: `Invalid boolean: ${value}`,
          ...(param === undefined ? {} : { param }),
        });
      }
      return value;
    }
    case 'string': {
      if (value === '' && (schema.minLength ?? 0) > 0) throw emptyValue(path);
      return value;
    }
    case 'array': {
      let items: unknown[] | null = null;
      if (Array.isArray(value)) items = value;
      else if (isPlainObject(value)) {
        const keys = Object.keys(value);
        if (keys.every((key) => /^\d{1,6}$/.test(key))) {
          items = keys
            .map((key) => Number(key))
            .sort((a, b) => a - b)
            .map((index) => value[String(index)]);
        }
      } else if (value === '') throw emptyValue(path);
      if (items === null) return value;
      const itemSchema = schema.items;
      return itemSchema === undefined ? items : items.map((item, index) => coerce(itemSchema, item, [...path, index]));
    }
    case 'object': {
      if (!isPlainObject(value)) {
        if (value === '') throw emptyValue(path);
        return value;
      }
      const result: Record<string, unknown> = {};
      const properties = schema.properties ?? {};
      const patterns = Object.entries(schema.patternProperties ?? {});
      for (const [key, child] of Object.entries(value)) {
        const propertySchema = Object.hasOwn(properties, key) ? properties[key] : undefined;
        if (propertySchema !== undefined) {
          result[key] = coerce(propertySchema, child, [...path, key]);
          continue;
        }
        const pattern = patterns.find(([expression]) => new RegExp(expression).test(key));
        if (pattern !== undefined) {
          // Metadata values are strings; a JSON client may send numbers or booleans.
          const normalised =
            schema['x-v1'] === 'metadata' && (typeof child === 'number' || typeof child === 'boolean')
              ? String(child)
              : child;
          result[key] = coerce(pattern[1], normalised, [...path, key]);
          continue;
        }
        if (schema.additionalProperties === false || patterns.length > 0) throw unknownParameter([...path, key]);
        result[key] = child;
      }
      for (const name of schema.required ?? []) {
        if (!Object.hasOwn(result, name)) {
          const param = bracketParam([...path, name]) ?? name;
          throw new AppError('parameter_missing', { message: `Missing required param: ${param}.`, param });
        }
      }
      if (schema['x-v1'] === 'metadata') checkMetadata(result, path);
      return result;
    }
    default:
      return value;
  }
}

function invalidInteger(value: unknown, path: Path): AppError {
  const param = bracketParam(path);
  return new AppError('parameter_invalid_integer', {
    message: `Invalid integer: ${String(value).slice(0, 100)}`,
    ...(param === undefined ? {} : { param }),
  });
}

function emptyValue(path: Path): AppError {
  const param = bracketParam(path) ?? 'parameter';
  return new AppError('parameter_invalid_empty', {
    message: `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    param,
  });
}

/**
 * Converts form strings by the schema and reports unknown, missing and malformed parameters the
 * way Stripe does. The route's schema validates the result afterwards (ranges, lengths, enums).
 */
export function coerceToSchema(schema: TSchema, value: unknown): unknown {
  return coerce(schema, value ?? {}, []);
}
