import { AppError, assert } from '../../platform/errors.js';
import { maskPhone } from '../identity/index.js';
import { walletLimits, type WalletUser, type WalletsCore } from './core.js';
import * as repo from './repository.js';

/**
 * Who a person sends money to: their recent recipients (from their own sent transfers, no table of
 * its own) and the look-up behind the confirm step, which shows a recipient's masked name and
 * masked phone before the PIN, as Alipay and WeChat Pay do.
 *
 * Nothing here answers a full phone number, an email or a user id. A recent recipient is named by
 * an opaque rcp_ id, a digest of the sender's and the recipient's user ids: it means something only
 * to that sender (it is resolved against their own history) and says nothing about the account.
 */

/** A person this user sent money to, newest first. */
export interface RecentRecipient {
  /** rcp_…: resolvable only by this sender. */
  id: string;
  /** The display name (the sender's own history shows it in full already). */
  name: string;
  phoneMasked: string | null;
  lastSentAt: Date;
}

/** What the confirm step shows: nothing that identifies the account beyond what the sender typed. */
export interface RecipientPreview {
  nameMasked: string;
  phoneMasked: string | null;
  emailMasked: string | null;
}

export const recentRecipientIdPattern = /^rcp_[0-9a-f]{32}$/;

export function recentRecipientId(senderId: string, recipientUserId: string): string {
  return repo.digestId('rcp', 'wallets.recent_recipient', senderId, recipientUserId);
}

/**
 * A name as a payer's confirm step shows it (Alipay's rule): a Chinese name hides its first
 * character, the surname (李明 → *明, 王小明 → *小明); any other name keeps its first character
 * only (Alice Wong → A*). A name of one character is a single *.
 */
export function maskName(name: string): string {
  const characters = Array.from(name.trim());
  if (characters.length <= 1) return '*';
  if (/^\p{Script=Han}+$/u.test(characters.join(''))) return `*${characters.slice(1).join('')}`;
  return `${characters[0]}*`;
}

/** a***@example.com: the first character and the domain. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  assert(at > 0, 'a stored email has a local part');
  return `${Array.from(email.slice(0, at))[0]}***${email.slice(at)}`;
}

/** The people this user sent money to (succeeded transfers), newest first, at most recentRecipientsMax. */
export async function recentRecipients(core: WalletsCore, userId: string): Promise<RecentRecipient[]> {
  const rows = await recentRecipientRows(core, userId);
  const users = await Promise.all(rows.map((row) => core.identity.getUser(row.userId)));
  const recipients: RecentRecipient[] = [];
  rows.forEach((row, index) => {
    const user = users[index];
    // A deleted account is no longer someone to send to.
    if (user === null || user === undefined) return;
    recipients.push({
      id: recentRecipientId(userId, row.userId),
      name: user.name,
      phoneMasked: user.phone === null ? null : maskPhone(user.phone),
      lastSentAt: row.lastSentAt,
    });
  });
  assert(recipients.length <= walletLimits.recentRecipientsMax, 'the recent list is bounded');
  return recipients;
}

/** Distinct recipients of the user's newest recentRecipientsScanMax sent transfers, newest first. */
async function recentRecipientRows(core: WalletsCore, userId: string): Promise<{ userId: string; lastSentAt: Date }[]> {
  const rows = await core.db.query<{ counterparty_user_id: string; last_sent_at: Date }>(
    `select counterparty_user_id, max(created_at) as last_sent_at
       from (select counterparty_user_id, created_at from wallets_transactions
              where user_id = $1 and type = 'p2p_sent' and status = 'succeeded'
                and counterparty_user_id is not null
              order by created_at desc, id desc limit $2) as sent
      group by counterparty_user_id
      order by last_sent_at desc, counterparty_user_id
      limit $3`,
    [userId, walletLimits.recentRecipientsScanMax, walletLimits.recentRecipientsMax],
  );
  return rows.map((row) => ({ userId: row.counterparty_user_id, lastSentAt: new Date(row.last_sent_at) }));
}

/** The user a recent-recipient id of this sender names; null when it names none of theirs. */
export async function resolveRecentRecipient(
  core: WalletsCore,
  senderId: string,
  recipientId: string,
): Promise<WalletUser | null> {
  if (!recentRecipientIdPattern.test(recipientId)) return null;
  const rows = await recentRecipientRows(core, senderId);
  const row = rows.find((candidate) => recentRecipientId(senderId, candidate.userId) === recipientId);
  return row === undefined ? null : core.identity.getUser(row.userId);
}

/** What can be looked up: a phone number (national ones in the operator's region), an email, an rcp_ id. */
const phoneOrEmail = /^[+\d\s\-().]+$|@/;

/**
 * The confirm step's answer for `to` (what the sender typed, or a recent recipient's id).
 * Errors: phone_invalid (not a phone number), recipient_not_found (no wallet has it: one answer
 * for every kind of miss), recipient_is_sender. The caller rate-limits it.
 */
export async function lookUpRecipient(core: WalletsCore, senderId: string, to: string): Promise<RecipientPreview> {
  const recipient = await findRecipient(core, senderId, to, 'to');
  if (recipient.id === senderId) throw new AppError('recipient_is_sender', { param: 'to' });
  return {
    nameMasked: maskName(recipient.name),
    phoneMasked: recipient.phone === null ? null : maskPhone(recipient.phone),
    emailMasked: recipient.phone === null && recipient.email !== null ? maskEmail(recipient.email) : null,
  };
}

/**
 * The person `to` names: a recent recipient (rcp_…) of this sender, a phone number or an email
 * (a user id, usr_…, too, for API clients sending money; never for look-ups). Throws phone_invalid
 * for what is written like a phone number but cannot be one, recipient_not_found otherwise.
 */
export async function findRecipient(
  core: WalletsCore,
  senderId: string,
  to: string,
  param: string,
  options: { userIds?: boolean } = {},
): Promise<WalletUser> {
  const text = to.trim();
  let found: WalletUser | null = null;
  if (recentRecipientIdPattern.test(text)) {
    found = await resolveRecentRecipient(core, senderId, text);
  } else if (options.userIds === true || phoneOrEmail.test(text)) {
    try {
      found = await core.identity.findUserByLogin(text);
    } catch (error) {
      if (error instanceof AppError && error.code === 'phone_invalid') {
        throw new AppError('phone_invalid', { message: 'The recipient is not a valid phone number.', param });
      }
      throw error;
    }
  }
  if (found === null) throw new AppError('recipient_not_found', { param });
  return found;
}
