import type { Db } from '../../platform/db.js';
import { newObjectId } from '../../platform/ids.js';
import { AppError, assert } from '../../platform/errors.js';
import { limits } from '../../platform/limits.js';
import type { Migration } from '../../platform/migrations.js';
import { testCardByToken } from './test-cards.js';
import { checkCvc, checkExpiry, checkPan, type CardBrand, type CardVault } from './vault/index.js';

/**
 * Cards a wallet user saved to top up from. The number lives in the vault (encrypted); this table
 * keeps the displayable facts and who owns the card. The CVC is checked for its format when the
 * card is saved and then forgotten: it is never stored (PCI DSS 3.3.1).
 */
export const walletCardMigrations: readonly Migration[] = [
  {
    id: '0730_cards_wallet_cards',
    sql: `
      create table cards_wallet_cards (
        id text primary key check (id ~ '^wc_[0-9A-Za-z]{22}$'),
        user_id text not null,
        vault_card_id text not null references cards_vault (id),
        brand text not null,
        last4 text not null check (last4 ~ '^[0-9]{4}$'),
        exp_month smallint not null,
        exp_year smallint not null,
        fingerprint text not null,
        created_at timestamptz not null default now(),
        deleted_at timestamptz
      );
      create index cards_wallet_cards_user on cards_wallet_cards (user_id, created_at desc) where deleted_at is null;
      -- One live row per card number and user: saving the same card again returns it.
      create unique index cards_wallet_cards_fingerprint on cards_wallet_cards (user_id, fingerprint)
        where deleted_at is null;
    `,
  },
];

/** The cardholder name is the vault's: platform/limits.ts cardVaultCardholderNameLengthMax. */
export const walletCardLimits = {
  /** Saved cards per user. */
  cardsPerUserMax: 10,
} as const;

export interface WalletCard {
  id: string;
  userId: string;
  brand: CardBrand;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: Date;
}

export type SaveWalletCardInput =
  | { number: string; expMonth: number; expYear: number; cvc?: string; cardholderName?: string }
  /** A test token (tok_visa, tok_chargeDeclined, …) when test sources are enabled. */
  | { token: string };

interface Row {
  id: string;
  user_id: string;
  vault_card_id: string;
  brand: CardBrand;
  last4: string;
  exp_month: number;
  exp_year: number;
  created_at: Date;
}

function fromRow(row: Row): WalletCard {
  return {
    id: row.id,
    userId: row.user_id,
    brand: row.brand,
    last4: row.last4,
    expMonth: Number(row.exp_month),
    expYear: Number(row.exp_year),
    createdAt: row.created_at,
  };
}

export type WalletCards = ReturnType<typeof createWalletCards>;

export function createWalletCards(deps: { db: Db; vault: CardVault; testTokens: boolean; now?: () => Date }) {
  const { db, vault } = deps;
  const now = deps.now ?? (() => new Date());

  async function findLive(userId: string, id: string): Promise<Row | null> {
    const rows = await db.query<Row>(
      'select * from cards_wallet_cards where id = $1 and user_id = $2 and deleted_at is null',
      [id, userId],
    );
    return rows[0] ?? null;
  }

  return {
    /** Saves a card (or returns the one already saved with the same number). */
    async save(userId: string, input: SaveWalletCardInput): Promise<WalletCard> {
      let card: { number: string; expMonth: number; expYear: number; cardholderName?: string };
      if ('token' in input) {
        const testCard = deps.testTokens ? testCardByToken(input.token) : undefined;
        if (testCard === undefined) {
          throw new AppError('invalid_request', {
            message: deps.testTokens ? 'Unknown card token.' : 'Card tokens are not available.',
            param: 'token',
          });
        }
        card = { number: testCard.number, expMonth: 12, expYear: now().getUTCFullYear() + 3 };
      } else {
        const { brand } = checkPan(input.number);
        checkExpiry({ expMonth: input.expMonth, expYear: input.expYear, nowMs: now().getTime() });
        // Checked for its format only, then dropped: never stored, never logged.
        if (input.cvc !== undefined) checkCvc(input.cvc, brand);
        if ((input.cardholderName?.length ?? 0) > limits.cardVaultCardholderNameLengthMax) {
          throw new AppError('invalid_request', { message: 'The cardholder name is too long.', param: 'name' });
        }
        card = {
          number: input.number,
          expMonth: input.expMonth,
          expYear: input.expYear,
          ...(input.cardholderName === undefined ? {} : { cardholderName: input.cardholderName }),
        };
      }
      const fingerprint = vault.fingerprintOf(card.number);
      const existing = await db.query<Row>(
        'select * from cards_wallet_cards where user_id = $1 and fingerprint = $2 and deleted_at is null',
        [userId, fingerprint],
      );
      if (existing[0] !== undefined) return fromRow(existing[0]);
      const [{ count }] = (await db.query<{ count: bigint }>(
        'select count(*)::bigint as count from cards_wallet_cards where user_id = $1 and deleted_at is null',
        [userId],
      )) as [{ count: bigint }];
      if (count >= BigInt(walletCardLimits.cardsPerUserMax)) {
        throw new AppError('limit_exceeded', {
          message: `A wallet keeps at most ${walletCardLimits.cardsPerUserMax} cards: remove one first.`,
        });
      }
      const stored = await vault.store({
        pan: card.number,
        expMonth: card.expMonth,
        expYear: card.expYear,
        ...(card.cardholderName === undefined ? {} : { cardholderName: card.cardholderName }),
      });
      const rows = await db.query<Row>(
        `insert into cards_wallet_cards (id, user_id, vault_card_id, brand, last4, exp_month, exp_year, fingerprint, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (user_id, fingerprint) where deleted_at is null do nothing
         returning *`,
        [
          newObjectId('wc'),
          userId,
          stored.id,
          stored.brand,
          stored.last4,
          stored.expMonth,
          stored.expYear,
          stored.fingerprint,
          now(),
        ],
      );
      if (rows[0] !== undefined) return fromRow(rows[0]);
      // Saved concurrently by another request: theirs wins.
      const raced = await db.query<Row>(
        'select * from cards_wallet_cards where user_id = $1 and fingerprint = $2 and deleted_at is null',
        [userId, fingerprint],
      );
      assert(raced[0] !== undefined, 'a conflicting saved card exists');
      return fromRow(raced[0]);
    },

    async list(userId: string): Promise<WalletCard[]> {
      const rows = await db.query<Row>(
        `select * from cards_wallet_cards where user_id = $1 and deleted_at is null
          order by created_at desc, id desc limit $2`,
        [userId, walletCardLimits.cardsPerUserMax],
      );
      return rows.map(fromRow);
    },

    async remove(userId: string, id: string): Promise<void> {
      const rows = await db.query(
        'update cards_wallet_cards set deleted_at = $3 where id = $1 and user_id = $2 and deleted_at is null returning id',
        [id, userId, now()],
      );
      if (rows.length === 0) throw new AppError('not_found', { message: 'No such saved card.', param: 'id' });
    },

    /** Whether a top-up source names a saved card (rather than a test token). */
    isCardSource(source: string): boolean {
      return /^wc_[0-9A-Za-z]{22}$/.test(source);
    },

    /** The vault record behind a user's saved card; not_found when it is not theirs or was removed. */
    async vaultCardOf(userId: string, id: string): Promise<{ vaultCardId: string; card: WalletCard }> {
      const row = await findLive(userId, id);
      if (row === null) throw new AppError('not_found', { message: 'No such saved card.', param: 'source' });
      return { vaultCardId: row.vault_card_id, card: fromRow(row) };
    },
  };
}
