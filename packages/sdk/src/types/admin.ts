/** Objects of /admin/v1. */

export interface Merchant {
  id: string;
  object: 'account';
  name: string;
  country: string;
  default_currency: string;
  mcc: string;
  city: string | null;
  pricing: { basis_points: number; fixed: Record<string, number> };
  activated_at: number | null;
  charges_enabled: boolean;
  created: number;
}

/** A merchant with keys issued now (create, activate): the keys are shown only in this response. */
export interface MerchantWithKeys extends Merchant {
  secret_key: string;
  publishable_key: string;
}

export interface CreateMerchantInput {
  name: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  default_currency: string;
  /** Merchant category code, 4 digits. */
  mcc: string;
  city?: string;
  pricing?: { basis_points?: number; fixed?: Record<string, number> };
}

export type ApiKeyType = 'secret' | 'publishable' | 'restricted';

export interface ApiKey {
  id: string;
  object: 'api_key';
  type: ApiKeyType;
  livemode: boolean;
  /** `sk_test_…last4`. */
  redacted: string;
  permissions: Record<string, string> | null;
  expires_at: number | null;
  created: number;
}

export interface RolledApiKey extends ApiKey {
  /** The new secret key, shown once. */
  secret: string;
  /** The keys that were rolled (they expire after the grace period). */
  rolled: ApiKey[];
}

export interface RestrictedApiKey extends ApiKey {
  secret: string;
}

export interface AdminUser {
  id: string;
  object: 'user';
  name: string;
  phone: string | null;
  email: string | null;
  kyc_tier: 0 | 1 | 2;
  frozen: boolean;
}

export interface LedgerVerifyReport {
  object: 'ledger_verify_report';
  ok: boolean;
  checks: { name: string; ok: boolean; violation_count: number; samples: string[] }[];
}
