import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../../platform/db.js';
import { newObjectId } from '../../platform/ids.js';
import { AppError } from '../../platform/errors.js';
import type { Migration } from '../../platform/migrations.js';
import { formatMinor } from '../../platform/money.js';
import type { CardForPayment, MerchantContext, PaymentIntent, PaymentService } from './service.js';
import { transitionChallenge } from './state-machine.js';

/**
 * 3-D Secure-like step-up for card payments. When the issuer answers "authentication required"
 * (ISO 8583 response 65, a soft decline) to an on-session payment, the intent waits in
 * requires_action with next_action.redirect_to_url: a hosted challenge page where the cardholder
 * completes or fails the authentication (Stripe's test page does the same). Completed, the payment
 * is sent again flagged as authenticated (field 22 = 812) and the browser goes to the return_url.
 * Off-session payments are declined with authentication_required, as Stripe does.
 *
 * The challenge id is the page's only credential: 22 random base62 characters (131 bits), valid
 * for 10 minutes, single use. No cookie is involved, so there is nothing to forge across sites.
 */
export const cardChallengeMigrations: readonly Migration[] = [
  {
    id: '0603_payments_card_challenges',
    sql: `
      create table payments_card_challenges (
        id text primary key check (id ~ '^chl_[0-9A-Za-z]{22}$'),
        account_id text not null,
        livemode boolean not null,
        payment_intent_id text not null,
        payment_method_id text not null,
        return_url text,
        status text not null check (status in ('pending', 'completed', 'failed')),
        expires_at timestamptz not null,
        created_at timestamptz not null default now()
      );
      create index payments_card_challenges_intent on payments_card_challenges (payment_intent_id);
    `,
  },
];

export const cardChallengeLimits = {
  ttlMs: 10 * 60 * 1000,
  returnUrlLengthMax: 2048,
  formBodyBytesMax: 256,
} as const;

interface ChallengeRow {
  id: string;
  account_id: string;
  livemode: boolean;
  payment_intent_id: string;
  payment_method_id: string;
  return_url: string | null;
  status: 'pending' | 'completed' | 'failed';
  expires_at: Date;
}

export interface CardChallengePorts {
  /** The card behind a PaymentMethod of the account (to send the payment again). */
  cardForPayment(ctx: MerchantContext, paymentMethodId: string): Promise<CardForPayment>;
  merchantName(accountId: string): Promise<string>;
}

/** What the 3-D Secure challenges work with (built once by createCardChallenges). */
interface CardChallengeDeps {
  db: Db;
  payments: PaymentService;
  ports: CardChallengePorts;
  now: () => Date;
}

export interface CardChallenges {
  /**
   * Turns an intent whose card asked for authentication into requires_action with a challenge.
   * `baseUrl` is where this server is reached (the page's address is built from it).
   */
  start(
    ctx: MerchantContext,
    intent: PaymentIntent,
    options: { baseUrl: string; returnUrl: string | null },
  ): Promise<PaymentIntent>;
  /** The page's facts; null when there is no such (or an expired) challenge. */
  describe(id: string): Promise<{ merchantName: string; amountMinor: bigint; currency: string } | null>;
  /**
   * The cardholder's answer. Completed: the payment goes out again as authenticated. Failed: the
   * intent returns to requires_payment_method with payment_intent_authentication_failure.
   * Returns where to send the browser (the return_url with Stripe's query parameters) and the intent.
   */
  answer(id: string, result: 'complete' | 'fail'): Promise<{ intent: PaymentIntent; redirectTo: string | null }>;
}

export function createCardChallenges(options: Omit<CardChallengeDeps, 'now'> & { now?: () => Date }): CardChallenges {
  const deps: CardChallengeDeps = { ...options, now: options.now ?? (() => new Date()) };
  return {
    start: (ctx, intent, startOptions) => startChallenge(deps, ctx, intent, startOptions),
    describe: (id) => describeChallenge(deps, id),
    answer: (id, result) => answerChallenge(deps, id, result),
  };
}

async function find(deps: CardChallengeDeps, id: string): Promise<ChallengeRow | null> {
  if (!/^chl_[0-9A-Za-z]{22}$/.test(id)) return null;
  const rows = await deps.db.query<ChallengeRow>('select * from payments_card_challenges where id = $1', [id]);
  return rows[0] ?? null;
}

async function startChallenge(
  deps: CardChallengeDeps,
  ctx: MerchantContext,
  intent: PaymentIntent,
  options: { baseUrl: string; returnUrl: string | null },
): Promise<PaymentIntent> {
  if (intent.paymentMethodId === null) throw new Error('assertion failed: a card intent has its PaymentMethod');
  if (options.returnUrl !== null && !/^https?:\/\//.test(options.returnUrl)) {
    throw new AppError('invalid_request', { message: 'return_url must be an http(s) URL.', param: 'return_url' });
  }
  const id = newObjectId('chl');
  await deps.db.query(
    `insert into payments_card_challenges (id, account_id, livemode, payment_intent_id, payment_method_id, return_url,
       status, expires_at)
     values ($1, $2, $3, $4, $5, $6, 'pending', $7)`,
    [
      id,
      ctx.accountId,
      ctx.livemode,
      intent.id,
      intent.paymentMethodId,
      options.returnUrl,
      new Date(deps.now().getTime() + cardChallengeLimits.ttlMs),
    ],
  );
  return deps.payments.requireAction(
    ctx,
    intent.id,
    {
      type: 'redirect_to_url',
      redirect_to_url: { url: `${options.baseUrl}/3ds/challenges/${id}`, return_url: options.returnUrl },
    },
    'card',
  );
}

async function describeChallenge(
  deps: CardChallengeDeps,
  id: string,
): Promise<{ merchantName: string; amountMinor: bigint; currency: string } | null> {
  const row = await find(deps, id);
  if (row === null || row.status !== 'pending' || row.expires_at <= deps.now()) return null;
  const ctx = { accountId: row.account_id, livemode: row.livemode };
  const intent = await deps.payments.retrieveIntent(ctx, row.payment_intent_id);
  return {
    merchantName: await deps.ports.merchantName(row.account_id),
    amountMinor: intent.amountMinor,
    currency: intent.currency,
  };
}

async function answerChallenge(
  deps: CardChallengeDeps,
  id: string,
  result: 'complete' | 'fail',
): Promise<{ intent: PaymentIntent; redirectTo: string | null }> {
  const row = (await transitionChallenge(deps.db, id, result, deps.now())) as ChallengeRow | null;
  if (row === null) {
    throw new AppError('not_found', { message: 'This authentication is over or has expired.', param: 'id' });
  }
  const ctx = { accountId: row.account_id, livemode: row.livemode };
  let intent: PaymentIntent;
  if (result === 'complete') {
    const card = await deps.ports.cardForPayment(ctx, row.payment_method_id);
    intent = await deps.payments.confirmWithCard(ctx, row.payment_intent_id, card, { authenticated: true });
  } else {
    intent = await deps.payments.failAuthentication(ctx, row.payment_intent_id);
  }
  let redirectTo: string | null = null;
  if (row.return_url !== null) {
    const url = new URL(row.return_url);
    url.searchParams.set('payment_intent', intent.id);
    url.searchParams.set('payment_intent_client_secret', intent.clientSecret);
    redirectTo = url.toString();
  }
  return { intent, redirectTo };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const pageStyle =
  'body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}' +
  'button{font-size:1rem;padding:.7rem 1.2rem;margin:.3rem .3rem 0 0;border-radius:.4rem;border:1px solid #555;cursor:pointer}' +
  '.ok{background:#0a6b3d;color:#fff;border-color:#0a6b3d}';
// The page runs no script; its one inline style is allowed by hash.
const pageCsp = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(pageStyle).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${pageStyle}</style></head><body><main>${body}</main></body></html>`;
}

/** GET/POST /3ds/challenges/:id: the hosted challenge page (public; the id is the credential). */
const ChallengeParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

export const cardChallengeRoutes: FastifyPluginAsyncTypebox<{ challenges: CardChallenges }> = async (app, options) => {
  const { challenges } = options;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: cardChallengeLimits.formBodyBytesMax },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get('/3ds/challenges/:id', { schema: { params: ChallengeParams } }, async (request, reply) => {
    const facts = await challenges.describe(request.params.id);
    void reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', pageCsp);
    if (facts === null) {
      return reply
        .status(404)
        .send(
          page(
            'Authentication unavailable',
            '<h1>Authentication unavailable</h1><p>This authentication is over or has expired.</p>',
          ),
        );
    }
    const action = `/3ds/challenges/${escapeHtml(request.params.id)}`;
    return reply.send(
      page(
        'Authenticate your payment',
        `<h1>Authenticate your payment</h1><p>Your bank asks you to confirm a payment of <strong>${escapeHtml(`${formatMinor(facts.amountMinor, facts.currency)} ${facts.currency}`)}</strong> to <strong>${escapeHtml(facts.merchantName)}</strong>.</p><p>This is Yunpay's test authentication page.</p><form method="post" action="${action}"><button class="ok" type="submit" name="result" value="complete">Complete authentication</button><button type="submit" name="result" value="fail">Fail authentication</button></form>`,
      ),
    );
  });

  app.post(
    '/3ds/challenges/:id',
    {
      schema: {
        params: ChallengeParams,
        body: Type.Object(
          { result: Type.Union([Type.Literal('complete'), Type.Literal('fail')]) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { intent, redirectTo } = await challenges.answer(request.params.id, request.body.result);
      if (redirectTo !== null) return reply.redirect(redirectTo, 303);
      const succeeded = intent.status === 'succeeded' || intent.status === 'requires_capture';
      void reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', pageCsp);
      return reply.send(
        page(
          succeeded ? 'Payment authenticated' : 'Payment not completed',
          succeeded
            ? '<h1>Payment authenticated</h1><p>You can close this page.</p>'
            : '<h1>Payment not completed</h1><p>The authentication failed or the card was declined. You can close this page.</p>',
        ),
      );
    },
  );
};
