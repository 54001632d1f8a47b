/** Objects of /wallet/v1, as the server returns them (snake_case; money in minor units; times in unix seconds). */

export type DevicePlatform = 'ios' | 'android' | 'web' | 'other';

export interface User {
  id: string;
  object: 'user';
  phone: string | null;
  email: string | null;
  name: string;
  created_at: number;
}

/** GET /me: the user and whether a payment PIN is set. */
export interface Me extends User {
  pin_set: boolean;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  /** Seconds the access token lives. */
  expires_in: number;
}

/** A sign-in or refresh answer in cookie mode: the refresh token is in the httpOnly cookie only. */
export type CookieTokenPair = Omit<TokenPair, 'refresh_token'>;

export interface Device {
  id: string;
  object: 'device';
  name: string;
  platform: DevicePlatform;
  created_at: number;
  last_seen_at: number;
  /** The device this session signed in from. */
  current: boolean;
}

export interface WalletBalance {
  /** ISO 4217, upper case. */
  currency: string;
  /** What the wallet can spend now, minor units. */
  available: number;
  /** Incoming money reserved but not yet posted, minor units. */
  pending: number;
}

export type WalletTransactionType = 'topup' | 'p2p_sent' | 'p2p_received' | 'payment' | 'refund';
export type WalletTransactionStatus = 'pending' | 'succeeded' | 'failed';

/** A history row, and the receipt GET /transactions/{id} returns. */
export interface WalletTransaction {
  id: string;
  object: 'wallet_transaction';
  type: WalletTransactionType;
  status: WalletTransactionStatus;
  /** Always positive; the type says which way it went. */
  amount: number;
  currency: string;
  fee: number;
  counterparty: { user_id: string; name: string } | null;
  note: string | null;
  source: string | null;
  failure_code: string | null;
  /** Shared by both sides of a transfer. */
  reference: string;
  created: number;
}

/** Someone this wallet sent money to (GET /wallet/v1/recipients/recent). */
export interface RecentRecipient {
  /** rcp_…: send to it (`transfers.create({ to: id })`) or look it up; it means something to you only. */
  id: string;
  object: 'recent_recipient';
  name: string;
  /** Masked: +86 138****0001. */
  phone: string | null;
  /** Unix seconds. */
  last_sent: number;
}

/** What the confirm step shows before the PIN (POST /wallet/v1/recipients/lookup). */
export interface RecipientPreview {
  object: 'recipient_preview';
  /** Masked: 李明 → *明, Alice Wong → A*. */
  name: string;
  /** Masked: +86 138****0001. */
  phone: string | null;
  /** Masked (a***@example.com), for someone with no phone. */
  email: string | null;
}

export interface HistoryFilter {
  type?: WalletTransactionType;
  status?: WalletTransactionStatus;
  /** Unix seconds, inclusive. */
  created_gte?: number;
  created_lte?: number;
}

export interface PaymentCode {
  /** "88" + 16 digits; shown as a barcode or QR for 60 s, single use. */
  code: string;
  object: 'payment_code';
  expires_at: number;
  mode: 'online';
}

export interface OfflineKey {
  object: 'offline_key';
  device_id: string;
  device_number: string;
  /** RFC 4648 base32 (no padding); shown only in this response. */
  secret: string;
  algorithm: 'HMAC-SHA256';
  digits: 8;
  period_s: 30;
  t0: 0;
  /** `89` + device_number + the TOTP. */
  format: string;
  enrolled_at: number;
  offline_limits: { currency: string; per_payment: number; daily: number }[];
}

export interface WalletCard {
  /** wc_…: a top-up source. */
  id: string;
  object: 'wallet_card';
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  created: number;
}

export type SaveCardInput =
  { number: string; exp_month: number; exp_year: number; cvc?: string; name?: string } | { token: string };

export type PaymentApprovalStatus = 'pending' | 'approved' | 'expired' | 'canceled';

export interface PaymentApproval {
  id: string;
  object: 'payment_approval';
  amount: number;
  currency: string;
  merchant: { name: string };
  payment_intent: string;
  /** False: the merchant is in test mode; approving simulates the payment and moves no money. */
  livemode: boolean;
  status: PaymentApprovalStatus;
  expires_at: number;
  created: number;
}

export interface PaymentApprovalResult {
  approval: PaymentApproval;
  payment_intent: { id: string; status: string };
}

/** What a scanned merchant QR will charge, before paying it. */
export interface QrPreview {
  object: 'qr_preview';
  /** True: a code for one payment intent, with its amount; false: the counter code (type the amount). */
  dynamic: boolean;
  merchant: { id: string; name: string };
  amount: number | null;
  currency: string;
  payment_intent: string | null;
  /** False: the merchant is in test mode; paying is simulated and moves no money. */
  livemode: boolean;
}

export interface QrPayment {
  payment_intent: string;
  status: string;
  amount: number;
  currency: string;
  /** False: a test-mode payment, simulated; no wallet money moved. */
  livemode: boolean;
}

export interface Notification {
  id: string;
  object: 'notification';
  /** payment.made, money.received, …; more may be added. */
  type: string;
  data: Record<string, unknown>;
  created: number;
  read: boolean;
}
