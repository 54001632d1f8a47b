import { Type, type TSchema } from 'typebox';

/**
 * Stripe's customer objects as /v1 returns them: the response schemas (a field not listed here is
 * not serialised). The objects themselves are built by the service (service.ts CustomerWire).
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const NullableString = Nullable(Type.String());

const AddressSchema = Type.Object({
  city: NullableString,
  country: NullableString,
  line1: NullableString,
  line2: NullableString,
  postal_code: NullableString,
  state: NullableString,
});

export const CustomerSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('customer'),
  address: Nullable(AddressSchema),
  balance: Type.Integer(),
  created: Type.Integer(),
  currency: NullableString,
  default_source: Type.Null(),
  delinquent: Type.Boolean(),
  description: NullableString,
  discount: Type.Null(),
  email: NullableString,
  invoice_prefix: Type.String(),
  invoice_settings: Type.Object({
    custom_fields: Type.Null(),
    default_payment_method: Type.Null(),
    footer: Type.Null(),
    rendering_options: Type.Null(),
  }),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
  name: NullableString,
  next_invoice_sequence: Type.Integer(),
  phone: NullableString,
  preferred_locales: Type.Array(Type.String()),
  shipping: Nullable(Type.Object({ address: AddressSchema, name: Type.String(), phone: NullableString })),
  tax_exempt: Type.String(),
  test_clock: Type.Null(),
});

export const DeletedCustomerSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('customer'),
  deleted: Type.Literal(true),
});

export const CustomerListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(CustomerSchema),
  has_more: Type.Boolean(),
  url: Type.String(),
});
