/**
 * Objects of the Stripe-compatible /v1 API, as Yunpay returns them. Currencies are lower case on
 * /v1 (`cny`), as Stripe's are; amounts are integers in minor units; times are unix seconds.
 * Fields Yunpay does not support yet are present as null (docs/stripe-compatibility.md).
 */

export type Metadata = Record<string, string>;

/** A metadata update: a key set to '' is removed; '' or null for the whole object clears it. */
export type MetadataUpdate = Record<string, string> | '' | null;

export interface DeletedObject<O extends string> {
  id: string;
  object: O;
  deleted: true;
}

/** `created` filter of lists: an exact second or a range. */
export type CreatedFilter = number | { gt?: number; gte?: number; lt?: number; lte?: number };

export interface ListParams {
  /** 1–100 (default 10). */
  limit?: number;
  starting_after?: string;
  ending_before?: string;
  expand?: string[];
}

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

export interface LastPaymentError {
  type: string;
  code?: string;
  decline_code?: string;
  message?: string;
  charge?: string;
  payment_method?: { id: string };
  [key: string]: unknown;
}

/** The POS shows this QR for the payer's wallet to scan. */
export interface WalletDisplayQrCode {
  data: string;
  image_data_url: string;
  image_url_svg: string;
  expires_at: number;
}

export type NextAction =
  | { type: 'wallet_display_qr_code'; wallet_display_qr_code: WalletDisplayQrCode }
  | { type: string; [key: string]: unknown };

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: 'automatic' | 'manual';
  client_secret: string | null;
  confirmation_method: 'automatic';
  created: number;
  currency: string;
  /** A cus_… id, or the customer when expanded. */
  customer: string | Customer | null;
  description: string | null;
  last_payment_error: LastPaymentError | null;
  /** A ch_… id, or the charge when expanded. */
  latest_charge: string | Charge | null;
  livemode: boolean;
  metadata: Metadata;
  next_action: NextAction | null;
  payment_method: string | PaymentMethod | null;
  payment_method_types: string[];
  status: PaymentIntentStatus;
  [key: string]: unknown;
}

export interface PaymentMethodData {
  type: 'wallet';
  /** The 18-digit code the payer's phone shows; without it the intent shows a QR (next_action). */
  wallet?: { code: string };
}

export interface PaymentIntentCreateParams {
  amount: number;
  currency: string;
  capture_method?: 'automatic' | 'manual';
  customer?: string;
  description?: string;
  metadata?: Metadata;
  confirm?: boolean;
  /** pm_… or a test token (pm_card_visa). */
  payment_method?: string;
  payment_method_types?: ('card' | 'wallet')[];
  payment_method_data?: PaymentMethodData;
  return_url?: string;
  off_session?: boolean;
  expand?: string[];
}

export interface PaymentIntentUpdateParams {
  amount?: number;
  description?: string | null;
  metadata?: MetadataUpdate;
  customer?: string | null;
  expand?: string[];
}

export interface PaymentIntentConfirmParams {
  payment_method?: string;
  payment_method_data?: PaymentMethodData;
  /** Needed with a publishable key. */
  client_secret?: string;
  return_url?: string;
  off_session?: boolean;
  expand?: string[];
}

export interface PaymentIntentListParams extends ListParams {
  created?: CreatedFilter;
  customer?: string;
}

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  balance_transaction: string | BalanceTransaction | null;
  captured: boolean;
  created: number;
  currency: string;
  failure_code: string | null;
  failure_message: string | null;
  livemode: boolean;
  paid: boolean;
  payment_intent: string | PaymentIntent;
  payment_method: string | null;
  payment_method_details: Record<string, unknown> | null;
  refunded: boolean;
  refunds: { object: 'list'; data: Refund[]; has_more: boolean; url: string };
  status: 'pending' | 'succeeded' | 'failed';
  [key: string]: unknown;
}

export interface ChargeListParams extends ListParams {
  created?: CreatedFilter;
  payment_intent?: string;
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | BalanceTransaction | null;
  charge: string | Charge;
  created: number;
  currency: string;
  failure_reason?: string;
  metadata: Metadata;
  payment_intent: string | PaymentIntent;
  reason: RefundReason | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  [key: string]: unknown;
}

export interface RefundCreateParams {
  /** A charge or a payment intent (its latest charge) to refund. */
  charge?: string;
  payment_intent?: string;
  /** Default: what remains. */
  amount?: number;
  reason?: RefundReason;
  metadata?: Metadata;
  expand?: string[];
}

export interface RefundListParams extends ListParams {
  created?: CreatedFilter;
  charge?: string;
  payment_intent?: string;
}

export interface BalanceAmount {
  amount: number;
  currency: string;
  source_types: Record<string, number>;
}

export interface Balance {
  object: 'balance';
  available: BalanceAmount[];
  pending: BalanceAmount[];
  livemode: boolean;
  connect_reserved: null;
}

export interface BalanceTransaction {
  id: string;
  object: 'balance_transaction';
  amount: number;
  available_on: number;
  created: number;
  currency: string;
  fee: number;
  fee_details: { amount: number; currency: string; description: string; type: string }[];
  net: number;
  reporting_category: string;
  source: string;
  status: 'pending' | 'available';
  type: 'charge' | 'refund';
  [key: string]: unknown;
}

export interface BalanceTransactionListParams extends ListParams {
  created?: CreatedFilter;
  type?: 'charge' | 'refund';
  source?: string;
}

export interface Address {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export type AddressInput = Partial<Record<keyof Address, string>>;

export interface Shipping {
  address: Address;
  name: string;
  phone: string | null;
}

export interface Customer {
  id: string;
  object: 'customer';
  address: Address | null;
  balance: number;
  created: number;
  currency: string | null;
  description: string | null;
  email: string | null;
  livemode: boolean;
  metadata: Metadata;
  name: string | null;
  phone: string | null;
  preferred_locales: string[];
  shipping: Shipping | null;
  [key: string]: unknown;
}

export interface CustomerCreateParams {
  address?: AddressInput;
  balance?: number;
  description?: string;
  email?: string;
  metadata?: Metadata;
  name?: string;
  phone?: string;
  preferred_locales?: string[];
  shipping?: { address: AddressInput; name: string; phone?: string };
  expand?: string[];
}

/** null (or '') unsets a field. */
export interface CustomerUpdateParams {
  address?: AddressInput | '' | null;
  balance?: number;
  description?: string | null;
  email?: string | null;
  metadata?: MetadataUpdate;
  name?: string | null;
  phone?: string | null;
  preferred_locales?: string[] | '' | null;
  shipping?: { address: AddressInput; name: string; phone?: string } | '' | null;
  expand?: string[];
}

export interface CustomerListParams extends ListParams {
  created?: CreatedFilter;
  email?: string;
}

export interface BillingDetails {
  address: Address;
  email: string | null;
  name: string | null;
  phone: string | null;
  tax_id: string | null;
}

export interface PaymentMethodCard {
  brand: string;
  checks: { address_line1_check: null; address_postal_code_check: null; cvc_check: string | null };
  country: string | null;
  display_brand: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: string;
  last4: string;
  networks: { available: string[]; preferred: string | null };
  three_d_secure_usage: { supported: boolean };
  [key: string]: unknown;
}

export interface PaymentMethod {
  id: string;
  object: 'payment_method';
  billing_details: BillingDetails;
  card: PaymentMethodCard;
  created: number;
  customer: string | Customer | null;
  livemode: boolean;
  metadata: Metadata;
  type: 'card';
  [key: string]: unknown;
}

export interface PaymentMethodCreateParams {
  type: 'card';
  /** A card number (test mode, or a PCI-scoped server) or a test token (`tok_visa`). */
  card?: { number?: string; exp_month?: number; exp_year?: number; cvc?: string; token?: string };
  billing_details?: { address?: AddressInput; email?: string; name?: string; phone?: string };
  metadata?: Metadata;
  expand?: string[];
}

export interface PaymentMethodUpdateParams {
  billing_details?: {
    address?: Partial<Record<keyof Address, string | null>> | '' | null;
    email?: string | null;
    name?: string | null;
    phone?: string | null;
  };
  card?: { exp_month?: number; exp_year?: number };
  metadata?: MetadataUpdate;
  expand?: string[];
}

export interface PaymentMethodListParams extends ListParams {
  customer?: string;
  type?: string;
}

export interface Event {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface EventListParams extends ListParams {
  created?: CreatedFilter;
  type?: string;
  types?: string[];
}

export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  api_version: null;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: boolean;
  metadata: Metadata;
  /** whsec_…: only in the create response. */
  secret?: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface WebhookEndpointCreateParams {
  url: string;
  enabled_events: string[];
  description?: string;
  metadata?: Metadata;
  expand?: string[];
}

export interface WebhookEndpointUpdateParams {
  url?: string;
  enabled_events?: string[];
  disabled?: boolean;
  description?: string | null;
  metadata?: MetadataUpdate;
  expand?: string[];
}

export interface WebhookAttempt {
  id: string;
  object: 'webhook_attempt';
  attempt: number;
  created: number;
  duration_ms: number;
  endpoint: string;
  error: string | null;
  event: string;
  livemode: boolean;
  response_body_excerpt: string;
  status_code: number | null;
}

export interface WebhookDelivery {
  object: 'webhook_delivery';
  endpoint: string;
  event: string;
  livemode: boolean;
  next_attempt: number;
  status: 'pending';
}

/** GET /v1/qr_codes/static: the merchant's counter code (the payer types the amount). */
export interface StaticQrCode {
  object: 'qr_code';
  type: 'static';
  data: string;
  image_data_url: string;
  image_url_svg: string;
}
