import { Type } from 'typebox';
import type { CardBrand } from '../vault/index.js';

/**
 * Stripe's PaymentMethod object (type card), as /v1 returns it, and its response schema. The
 * schema is the last guard against a leak: a field not listed here is not serialised.
 */

export interface AddressWire {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface BillingDetailsWire {
  address: AddressWire;
  email: string | null;
  name: string | null;
  phone: string | null;
  tax_id: string | null;
}

export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';
export type CvcCheck = 'pass' | 'fail' | 'unavailable' | 'unchecked';

/** Stripe's display_brand values for our brands. */
export type DisplayBrand =
  'american_express' | 'diners_club' | 'discover' | 'jcb' | 'mastercard' | 'union_pay' | 'visa' | 'other';

export interface PaymentMethodCardWire {
  brand: CardBrand;
  checks: {
    address_line1_check: null;
    address_postal_code_check: null;
    cvc_check: CvcCheck | null;
  };
  country: string | null;
  display_brand: DisplayBrand;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: CardFunding;
  generated_from: null;
  last4: string;
  networks: { available: string[]; preferred: null };
  regulated_status: null;
  three_d_secure_usage: { supported: boolean };
  wallet: null;
}

export interface PaymentMethodWire {
  id: string;
  object: 'payment_method';
  allow_redisplay: 'unspecified';
  billing_details: BillingDetailsWire;
  card: PaymentMethodCardWire;
  created: number;
  /** A cus_… id, or the customer object when expanded. */
  customer: string | null;
  customer_account: null;
  livemode: boolean;
  metadata: Record<string, string>;
  type: 'card';
}

const NullableString = Type.Union([Type.String(), Type.Null()]);

const AddressSchema = Type.Object({
  city: NullableString,
  country: NullableString,
  line1: NullableString,
  line2: NullableString,
  postal_code: NullableString,
  state: NullableString,
});

export const PaymentMethodSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_method'),
  allow_redisplay: Type.String(),
  billing_details: Type.Object({
    address: AddressSchema,
    email: NullableString,
    name: NullableString,
    phone: NullableString,
    tax_id: NullableString,
  }),
  card: Type.Object({
    brand: Type.String(),
    checks: Type.Object({
      address_line1_check: NullableString,
      address_postal_code_check: NullableString,
      cvc_check: NullableString,
    }),
    country: NullableString,
    display_brand: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    fingerprint: Type.String(),
    funding: Type.String(),
    generated_from: Type.Null(),
    last4: Type.String({ pattern: '^[0-9]{4}$' }),
    networks: Type.Object({ available: Type.Array(Type.String()), preferred: NullableString }),
    regulated_status: NullableString,
    three_d_secure_usage: Type.Object({ supported: Type.Boolean() }),
    wallet: Type.Null(),
  }),
  created: Type.Integer(),
  // expand[]=customer puts the customer object here.
  customer: Type.Union([Type.String(), Type.Null(), Type.Object({}, { additionalProperties: true })]),
  customer_account: Type.Null(),
  livemode: Type.Boolean(),
  metadata: Type.Record(Type.String(), Type.String()),
  type: Type.Literal('card'),
});

export const PaymentMethodListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(PaymentMethodSchema),
  has_more: Type.Boolean(),
  url: Type.String(),
});
