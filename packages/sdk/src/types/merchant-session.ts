/** Objects of /merchant/v1: the POS and dashboard's cookie session and their own endpoints. */
import type { ApiKey } from './admin.js';

/** The signed-in merchant, as the session shows it (currencies lower case, as /v1 writes them). */
export interface MerchantSessionAccount {
  id: string;
  object: 'account';
  name: string;
  country: string;
  default_currency: string;
  city: string | null;
  charges_enabled: boolean;
}

export interface MerchantSessionInfo {
  object: 'merchant_session';
  /** msess_…: safe to log (the cookie is not readable by scripts anyway). */
  id: string;
  /** Sent as X-CSRF-Token on every cookie request; kept in memory only. */
  csrf_token: string;
  livemode: boolean;
  /** Unix seconds: the session ends then at the latest. */
  expires_at: number;
  account: MerchantSessionAccount;
}

/** A key of the signed-in merchant's account and mode, redacted (publishable keys also in full). */
export type MerchantApiKey = Omit<ApiKey, 'permissions'> & {
  /** The whole key: publishable keys only (they are public); null for secret and restricted keys. */
  value: string | null;
};

export interface MerchantRolledApiKey extends MerchantApiKey {
  /** The new secret key, shown once. */
  secret: string;
  /** The keys that were rolled (they expire after the grace period). */
  rolled: MerchantApiKey[];
}

export interface MerchantApiKeyRollParams {
  /** How long the old secret key keeps working, in seconds (default 0: it stops now). */
  expires_in_s?: number;
}

/** One UTC day of charges in one currency (amounts in minor units). */
export interface DailyBalanceSummary {
  /** YYYY-MM-DD (UTC). */
  day: string;
  currency: string;
  volume: number;
  refunded: number;
  fees: number;
  net: number;
  charge_count: number;
}

export interface DailyBalanceSummaryList {
  object: 'list';
  days: number;
  /** The server's current UTC day (YYYY-MM-DD): "today" on the dashboard's overview. */
  today: string;
  data: DailyBalanceSummary[];
}
