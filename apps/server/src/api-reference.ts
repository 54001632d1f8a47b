/**
 * The human side of the OpenAPI document (/openapi.json, rendered at /docs): a summary and a tag
 * for every operation, how each API authenticates, the form bodies of /v1, and the introduction
 * with curl and Stripe SDK examples. The shapes (parameters, bodies, responses) come from the
 * routes' own schemas; this file only names and explains them, so routes stay about behaviour.
 *
 * Operations are keyed `METHOD /path/{param}` as in the document. A route without an entry here
 * keeps whatever summary its schema has; test/api-reference.test.ts requires every documented
 * operation to end with a summary and a tag, and every entry here to match a route.
 */

export interface OperationDoc {
  summary: string;
  description?: string;
}

export interface ApiTag {
  name: string;
  description: string;
}

export const apiTags: readonly ApiTag[] = [
  {
    name: 'Payment intents',
    description:
      'Stripe-compatible PaymentIntents: create, confirm with a wallet payment code, a dynamic QR or a card, capture, cancel.',
  },
  { name: 'Charges', description: 'The charge each successful payment attempt creates.' },
  { name: 'Refunds', description: 'Full and partial refunds of succeeded charges.' },
  { name: 'Customers', description: "Your customers, and the cards saved to them (Stripe's Customer object)." },
  { name: 'Payment methods', description: 'Cards tokenized by the vault: pm_… objects, attached to customers.' },
  { name: 'Balance', description: "Your account's balance and the balance transactions behind it." },
  { name: 'Events', description: 'Everything that happened to your objects, kept 30 days; what webhooks deliver.' },
  {
    name: 'Webhook endpoints',
    description:
      'HTTPS endpoints that receive signed events (Stripe-Signature). Loopback and private addresses are refused unless the operator sets YUNPAY_WEBHOOK_ALLOW_PRIVATE=true.',
  },
  {
    name: 'Merchant sessions',
    description: 'Cookie sessions of the POS and the dashboard (sign in with a secret key).',
  },
  { name: 'Wallet: account', description: 'Sign up, sign in, devices, the payment PIN.' },
  { name: 'Wallet: money', description: 'Balances, top-ups, P2P transfers and the transaction history.' },
  {
    name: 'Wallet: paying merchants',
    description:
      'Payment codes (online and offline), scanning merchant QR codes, approvals of payments that need a PIN.',
  },
  { name: 'Wallet: cards', description: 'Cards saved to the wallet for top-ups, and 3-D Secure challenges.' },
  { name: 'Wallet: notifications', description: 'What happened to the wallet, as a list and as a live stream.' },
  {
    name: 'Admin',
    description: "The operator's API: merchants, their keys and activation, wallet users, ledger checks.",
  },
  { name: 'Operations', description: 'Liveness, readiness and Prometheus metrics.' },
];

/** The tag of an operation, from its path. */
export function tagOf(path: string): string {
  const rules: readonly [RegExp, string][] = [
    [/^\/v1\/payment_intents|^\/v1\/qr_codes/, 'Payment intents'],
    [/^\/v1\/charges/, 'Charges'],
    [/^\/v1\/refunds/, 'Refunds'],
    [/^\/v1\/customers\/\{id\}\/payment_methods|^\/v1\/payment_methods/, 'Payment methods'],
    [/^\/v1\/customers/, 'Customers'],
    [/^\/v1\/balance/, 'Balance'],
    [/^\/v1\/events/, 'Events'],
    [/^\/v1\/webhook_endpoints/, 'Webhook endpoints'],
    [/^\/merchant\/v1\//, 'Merchant sessions'],
    [/^\/wallet\/v1\/(balances|topups|transfers|transactions)/, 'Wallet: money'],
    [/^\/wallet\/v1\/recipients\//, 'Wallet: money'],
    [/^\/wallet\/v1\/(payment_codes|devices\/\{id\}\/offline_key|qr\/|payment_approvals)/, 'Wallet: paying merchants'],
    [/^\/wallet\/v1\/cards|^\/3ds\//, 'Wallet: cards'],
    [/^\/wallet\/v1\/notifications/, 'Wallet: notifications'],
    [/^\/wallet\/v1\/|^\/\.well-known\//, 'Wallet: account'],
    [/^\/admin\/v1\//, 'Admin'],
    [/^\/(healthz|readyz|metrics)$/, 'Operations'],
  ];
  for (const [pattern, tag] of rules) if (pattern.test(path)) return tag;
  return 'Operations';
}

export const operationDocs: Readonly<Record<string, OperationDoc>> = {
  'GET /healthz': { summary: 'Liveness: the process answers' },
  'GET /readyz': { summary: 'Readiness: the database answers and every migration is applied' },
  'GET /metrics': { summary: 'Prometheus metrics (text exposition format)' },

  'GET /admin/v1/ledger/verify': {
    summary: 'Verify the ledger',
    description: 'Recomputes every balance from the entries and checks that debits equal credits.',
  },
  'GET /admin/v1/users': { summary: 'List wallet users' },
  'POST /admin/v1/users/{id}/tier': { summary: "Set a wallet user's KYC tier (its limits)" },
  'POST /admin/v1/users/{id}/freeze': { summary: 'Freeze a wallet: it can no longer pay or send' },
  'POST /admin/v1/users/{id}/unfreeze': { summary: 'Unfreeze a wallet' },
  'POST /admin/v1/merchants': {
    summary: 'Create a merchant',
    description: 'Returns test-mode keys at once; live keys work after the merchant is activated.',
  },
  'GET /admin/v1/merchants': { summary: 'List merchants' },
  'GET /admin/v1/merchants/{id}': { summary: 'Retrieve a merchant' },
  'POST /admin/v1/merchants/{id}/activate': { summary: 'Activate a merchant for live mode' },
  'GET /admin/v1/merchants/{id}/keys': { summary: "List a merchant's API keys" },
  'POST /admin/v1/merchants/{id}/keys': { summary: 'Create an API key (secret, publishable or restricted)' },
  'POST /admin/v1/merchants/{id}/keys/roll': {
    summary: 'Roll a secret key',
    description: 'Issues a new key; the old one keeps working until the chosen expiry.',
  },

  'GET /wallet/v1/balances': { summary: 'Balances of the signed-in wallet, per currency' },
  'POST /wallet/v1/topups': { summary: 'Top up the wallet from a saved card (Idempotency-Key required)' },
  'POST /wallet/v1/transfers': { summary: 'Send money to another wallet (payment PIN, Idempotency-Key required)' },
  'GET /wallet/v1/transactions': { summary: 'List wallet transactions, newest first' },
  'GET /wallet/v1/transactions.csv': { summary: 'Export wallet transactions as CSV' },
  'GET /wallet/v1/transactions/{id}': { summary: 'Retrieve a wallet transaction (a receipt)' },
  'GET /wallet/v1/recipients/recent': { summary: 'People you sent money to recently, newest first (phones masked)' },
  'POST /wallet/v1/recipients/lookup': {
    summary: 'Confirm a recipient before paying: their masked name and phone (rate-limited)',
  },
  'GET /3ds/challenges/{id}': { summary: 'The 3-D Secure challenge page of a card' },
  'POST /3ds/challenges/{id}': { summary: 'Answer a 3-D Secure challenge' },
  'POST /wallet/v1/cards': { summary: 'Save a card to the wallet (tokenized by the vault)' },
  'GET /wallet/v1/cards': { summary: "List the wallet's saved cards" },
  'DELETE /wallet/v1/cards/{id}': { summary: 'Remove a saved card' },
  'GET /wallet/v1/payment_approvals': { summary: 'Payments waiting for this wallet to approve them' },
  'POST /wallet/v1/payment_approvals/{id}': { summary: 'Approve (with the payment PIN) or decline a payment' },
  'POST /wallet/v1/qr/resolve': { summary: 'Read a scanned merchant QR code: who is paid, and how much' },
  'POST /wallet/v1/qr/pay': { summary: 'Pay a scanned merchant QR code (payment PIN, Idempotency-Key required)' },
  'GET /wallet/v1/notifications': { summary: "List the wallet's notifications, newest first" },
  'POST /wallet/v1/notifications/{id}/read': { summary: 'Mark a notification read' },
  'GET /wallet/v1/notifications/stream': { summary: 'Live notifications (server-sent events)' },

  'POST /v1/customers': { summary: 'Create a customer' },
  'GET /v1/customers': { summary: 'List customers' },
  'GET /v1/customers/{id}': { summary: 'Retrieve a customer' },
  'POST /v1/customers/{id}': { summary: 'Update a customer' },
  'DELETE /v1/customers/{id}': { summary: 'Delete a customer' },
  'GET /v1/events/{id}': { summary: 'Retrieve an event' },
  'GET /v1/events': { summary: 'List events' },
  'POST /v1/webhook_endpoints': {
    summary: 'Create a webhook endpoint',
    description:
      'The answer holds the signing secret (whsec_…) once. To receive webhooks on your own machine while developing, the operator must set YUNPAY_WEBHOOK_ALLOW_PRIVATE=true, which allows loopback and private addresses such as http://127.0.0.1:8080/webhooks.',
  },
  'GET /v1/webhook_endpoints': { summary: 'List webhook endpoints' },
  'GET /v1/webhook_endpoints/{id}': { summary: 'Retrieve a webhook endpoint' },
  'POST /v1/webhook_endpoints/{id}': { summary: 'Update a webhook endpoint' },
  'DELETE /v1/webhook_endpoints/{id}': { summary: 'Delete a webhook endpoint' },
  'GET /v1/webhook_endpoints/{id}/attempts': { summary: "List an endpoint's delivery attempts" },
  'POST /v1/webhook_endpoints/{id}/resend': { summary: 'Resend an event to an endpoint' },
  'POST /v1/payment_intents': {
    summary: 'Create a PaymentIntent',
    description:
      'With `confirm=true` and a payment method (a wallet payment code, a card pm_…) it is created and paid in one call.',
  },
  'GET /v1/payment_intents': { summary: 'List PaymentIntents' },
  'GET /v1/payment_intents/{id}': { summary: 'Retrieve a PaymentIntent' },
  'POST /v1/payment_intents/{id}': { summary: 'Update a PaymentIntent' },
  'POST /v1/payment_intents/{id}/confirm': { summary: 'Confirm a PaymentIntent' },
  'POST /v1/payment_intents/{id}/capture': { summary: 'Capture an authorized PaymentIntent' },
  'POST /v1/payment_intents/{id}/cancel': { summary: 'Cancel a PaymentIntent' },
  'GET /v1/qr_codes/static': { summary: "Your static QR code (EMVCo): the customer's wallet enters the amount" },
  'GET /v1/charges/{id}': { summary: 'Retrieve a charge' },
  'GET /v1/charges': { summary: 'List charges' },
  'POST /v1/refunds': { summary: 'Create a refund (full or partial)' },
  'GET /v1/refunds': { summary: 'List refunds' },
  'GET /v1/refunds/{id}': { summary: 'Retrieve a refund' },
  'GET /v1/balance': { summary: 'Retrieve the balance' },
  'GET /v1/balance_transactions/{id}': { summary: 'Retrieve a balance transaction' },
  'GET /v1/balance_transactions': { summary: 'List balance transactions' },
  'POST /v1/payment_methods': { summary: 'Create a PaymentMethod (a card, tokenized by the vault)' },
  'GET /v1/payment_methods': { summary: "List a customer's PaymentMethods" },
  'GET /v1/payment_methods/{id}': { summary: 'Retrieve a PaymentMethod' },
  'POST /v1/payment_methods/{id}': { summary: 'Update a PaymentMethod' },
  'POST /v1/payment_methods/{id}/attach': { summary: 'Attach a PaymentMethod to a customer' },
  'POST /v1/payment_methods/{id}/detach': { summary: 'Detach a PaymentMethod from its customer' },
  'GET /v1/customers/{id}/payment_methods': { summary: "List a customer's PaymentMethods" },
  'GET /v1/customers/{id}/payment_methods/{payment_method}': { summary: "Retrieve a customer's PaymentMethod" },

  'POST /merchant/v1/sessions': { summary: 'Sign in to the POS or the dashboard with a secret key' },
  'GET /merchant/v1/sessions/current': { summary: 'The current merchant session' },
  'DELETE /merchant/v1/sessions/current': { summary: 'Sign out of the POS or the dashboard' },
  'GET /merchant/v1/api_keys': { summary: "The account's API keys (the dashboard's key page)" },
  'POST /merchant/v1/api_keys/roll': { summary: 'Roll the secret key from the dashboard' },
  'GET /merchant/v1/balance/daily': { summary: 'Daily balance series (the dashboard chart)' },
};

/** Paths the wallet serves without a wallet access token. */
const walletPublic = new Set([
  'POST /wallet/v1/users',
  'POST /wallet/v1/sessions',
  'POST /wallet/v1/sessions/refresh',
  'POST /wallet/v1/sessions/resume',
]);
const merchantPublic = new Set([
  'POST /merchant/v1/accounts',
  'POST /merchant/v1/sessions',
  'GET /merchant/v1/sessions/resume',
]);

/** How an operation authenticates, as an OpenAPI security requirement (empty: none). */
export function securityOf(key: string, path: string): Record<string, string[]>[] {
  if (path.startsWith('/v1/')) return [{ secretKey: [] }, { merchantSession: [] }];
  if (path.startsWith('/admin/v1/')) return [{ adminToken: [] }];
  if (path.startsWith('/wallet/v1/')) return walletPublic.has(key) ? [] : [{ walletToken: [] }];
  if (path.startsWith('/merchant/v1/')) return merchantPublic.has(key) ? [] : [{ merchantSession: [] }];
  return [];
}

export const securitySchemes = {
  secretKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'Your API key: `Authorization: Bearer sk_test_…` (or Basic auth with the key as the user name, which is what `curl -u sk_test_…:` sends). Test keys (sk_test_) never move real money; live keys (sk_live_) work once the operator has activated the merchant. A few calls also accept the publishable key (pk_…).',
  },
  walletToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A wallet access token from POST /wallet/v1/sessions (15 minutes; refresh with the refresh token).',
  },
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description: "The operator's admin token (printed at start-up; kept in data/admin-token).",
  },
  merchantSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'yunpay_msess',
    description:
      'The POS and dashboard session cookie (`__Host-yunpay_msess` over HTTPS), with the X-CSRF-Token header on every change.',
  },
} as const;

export const apiDescription = `Yunpay's API: the Stripe-compatible merchant API at \`/v1\`, the wallet API at \`/wallet/v1\`, and the operator's API at \`/admin/v1\`.

Money is always an integer in the currency's minor unit (fen for CNY: \`2550\` is ¥25.50; yen for JPY: \`2550\` is ¥2,550), with an ISO 4217 currency.

## Authentication

\`/v1\` takes your secret key, the way Stripe does. \`curl -u sk_test_…:\` or \`Authorization: Bearer sk_test_…\`. Test-mode keys work at once and never move real money; live-mode keys work after the operator activates the merchant (\`POST /admin/v1/merchants/{id}/activate\`).

## Requests

\`/v1\` takes form bodies (\`application/x-www-form-urlencoded\`, with Stripe's bracket notation such as \`metadata[order_id]=42\` and \`expand[]=latest_charge\`) or JSON. Every POST takes an \`Idempotency-Key\` header: a retry with the same key returns the first answer (or finishes the first attempt), the same key with other parameters is refused (an \`idempotency_error\`), and a retry while the first is still running gets \`idempotency_key_in_use\` (409). Errors come in Stripe's envelope: \`{"error": {"type", "code", "message", "param"}}\`.

## Examples

Create and confirm a payment with a customer's wallet payment code (the 18 digits under their barcode):

\`\`\`sh
curl http://127.0.0.1:4000/v1/payment_intents \\
  -u sk_test_YOUR_KEY: \\
  -H "Idempotency-Key: order-42" \\
  -d amount=2550 -d currency=cny \\
  -d "payment_method_data[type]=wallet" \\
  -d "payment_method_data[wallet][code]=880000000000000000" \\
  -d confirm=true
\`\`\`

The official Stripe SDK talks to it unchanged:

\`\`\`js
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_YOUR_KEY', { host: '127.0.0.1', port: 4000, protocol: 'http' });
const intent = await stripe.paymentIntents.create({
  amount: 2550,
  currency: 'cny',
  payment_method: 'pm_card_visa',
  confirm: true,
});
const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 550 });
\`\`\`
`;

/** `/v1/x/:id` → `/v1/x/{id}`, as the document names paths. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

interface RouteSchema {
  summary?: string;
  description?: string;
  tags?: string[];
  body?: unknown;
  consumes?: string[];
  security?: Record<string, string[]>[];
  hide?: boolean;
}

/** @fastify/swagger's `transform`: adds the summary, tag, security and form bodies of a route. */
export function documentOperation(input: { schema: unknown; url: string; route: { method: string | string[] } }): {
  schema: unknown;
  url: string;
} {
  const schema = (input.schema ?? {}) as RouteSchema;
  const method = (Array.isArray(input.route.method) ? input.route.method[0] : input.route.method) ?? 'GET';
  const path = openApiPath(input.url);
  const key = `${method.toUpperCase()} ${path}`;
  const doc = operationDocs[key];
  const documented: RouteSchema = {
    ...schema,
    summary: schema.summary ?? doc?.summary,
    tags: schema.tags ?? [tagOf(path)],
    security: schema.security ?? securityOf(key, path),
  };
  const description = schema.description ?? doc?.description;
  if (description !== undefined) documented.description = description;
  // /v1 parses form bodies (Stripe's notation) as well as JSON.
  if (path.startsWith('/v1/') && schema.body !== undefined && schema.consumes === undefined) {
    documented.consumes = ['application/x-www-form-urlencoded', 'application/json'];
  }
  return { schema: documented, url: input.url };
}

interface DocumentTags {
  tags?: ApiTag[];
  paths?: Record<string, Record<string, { tags?: string[] }>>;
}

/** @fastify/swagger's `transformObject`: lists only the tags this process's routes use (no cards: no card tags). */
export function dropUnusedTags(input: { openapiObject: unknown }): unknown {
  const document = input.openapiObject as DocumentTags;
  const used = new Set(
    Object.values(document.paths ?? {}).flatMap((methods) => Object.values(methods).flatMap((op) => op.tags ?? [])),
  );
  return { ...document, tags: (document.tags ?? []).filter((tag) => used.has(tag.name)) };
}
