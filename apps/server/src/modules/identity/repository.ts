import type { SqlExecutor } from '../../platform/db.js';
import { assert } from '../../platform/errors.js';
import type { Device, DevicePlatform, User } from './types.js';

/** SQL only: the rules live in service.ts. Times go in as Date and come out as unix seconds. */

export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1_000);
}

interface UserRow {
  id: string;
  phone: string | null;
  email: string | null;
  name: string;
  created_at: Date;
}

const userColumns = 'u.id, u.phone, u.email, u.name, u.created_at';

function toUser(row: UserRow): User {
  return { id: row.id, phone: row.phone, email: row.email, name: row.name, createdAt: unixSeconds(row.created_at) };
}

export async function insertUser(
  tx: SqlExecutor,
  user: { id: string; phone: string | null; email: string | null; name: string; createdAt: Date; passwordHash: string },
): Promise<User> {
  const rows = await tx.query<UserRow>(
    `insert into identity_users as u (id, phone, email, name, created_at) values ($1, $2, $3, $4, $5)
     returning ${userColumns}`,
    [user.id, user.phone, user.email, user.name, user.createdAt],
  );
  await tx.query(`insert into identity_credentials (user_id, password_hash, updated_at) values ($1, $2, $3)`, [
    user.id,
    user.passwordHash,
    user.createdAt,
  ]);
  assert(rows.length === 1, 'insert into identity_users returned no row');
  return toUser(rows[0]!);
}

export type LoginKind = 'phone' | 'email' | 'id';

const loginColumn: Record<LoginKind, string> = { phone: 'u.phone', email: 'u.email', id: 'u.id' };

export async function findUser(db: SqlExecutor, login: { kind: LoginKind; value: string }): Promise<User | null> {
  const rows = await db.query<UserRow>(
    `select ${userColumns} from identity_users u where ${loginColumn[login.kind]} = $1`,
    [login.value],
  );
  return rows[0] === undefined ? null : toUser(rows[0]);
}

export async function listUsers(
  db: SqlExecutor,
  options: { limit: number; beforeSeq: bigint | null },
): Promise<User[]> {
  const rows = await db.query<UserRow>(
    `select ${userColumns} from identity_users u
      where $1::bigint is null or u.seq < $1::bigint
      order by u.seq desc limit $2`,
    [options.beforeSeq, options.limit],
  );
  return rows.map(toUser);
}

export async function userSeq(db: SqlExecutor, userId: string): Promise<bigint | null> {
  const rows = await db.query<{ seq: bigint }>('select seq from identity_users where id = $1', [userId]);
  return rows[0]?.seq ?? null;
}

// --- password and PIN attempts -------------------------------------------------------------------

export interface SecretState {
  hash: string;
  failedCount: number;
  lockedUntil: Date | null;
}

type SecretTable = 'identity_credentials' | 'identity_pins';
const hashColumn: Record<SecretTable, string> = {
  identity_credentials: 'password_hash',
  identity_pins: 'pin_hash',
};

export async function findSecret(db: SqlExecutor, table: SecretTable, userId: string): Promise<SecretState | null> {
  const rows = await db.query<{ hash: string; failed_count: number; locked_until: Date | null }>(
    `select ${hashColumn[table]} as hash, failed_count, locked_until from ${table} where user_id = $1`,
    [userId],
  );
  const row = rows[0];
  return row === undefined ? null : { hash: row.hash, failedCount: row.failed_count, lockedUntil: row.locked_until };
}

/**
 * Claims one attempt before the secret is checked: the counter goes up first, in one statement,
 * and only while the limit is not reached, so concurrent guesses can never check more than
 * failuresMax secrets between two successes. A lapsed lock starts a fresh count. Returns the
 * attempt's number (1…failuresMax), or null when the secret is locked (or the limit is taken by
 * attempts still in flight).
 */
export async function claimAttempt(
  db: SqlExecutor,
  table: SecretTable,
  options: { userId: string; now: Date; failuresMax: number },
): Promise<number | null> {
  const rows = await db.query<{ failed_count: number }>(
    `update ${table}
        set failed_count = case when locked_until <= $2 then 1 else failed_count + 1 end,
            locked_until = case when locked_until <= $2 then null else locked_until end
      where user_id = $1 and ((locked_until is null and failed_count < $3) or locked_until <= $2)
      returning failed_count`,
    [options.userId, options.now, options.failuresMax],
  );
  const count = rows[0]?.failed_count ?? null;
  assert(count === null || (count >= 1 && count <= options.failuresMax), 'claimed attempt out of range');
  return count;
}

export async function resetAttempts(db: SqlExecutor, table: SecretTable, userId: string): Promise<void> {
  await db.query(`update ${table} set failed_count = 0, locked_until = null where user_id = $1`, [userId]);
}

/** Locks once the failures reach the limit; true only for the one call that set the lock. */
export async function lockIfExhausted(
  tx: SqlExecutor,
  table: SecretTable,
  options: { userId: string; failuresMax: number; lockedUntil: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `update ${table} set locked_until = $3
      where user_id = $1 and failed_count >= $2 and locked_until is null
      returning user_id`,
    [options.userId, options.failuresMax, options.lockedUntil],
  );
  return rows.length === 1;
}

export async function upsertPin(
  db: SqlExecutor,
  options: { userId: string; pinHash: string; now: Date },
): Promise<void> {
  await db.query(
    `insert into identity_pins (user_id, pin_hash, updated_at) values ($1, $2, $3)
     on conflict (user_id) do update
       set pin_hash = excluded.pin_hash, failed_count = 0, locked_until = null, updated_at = excluded.updated_at`,
    [options.userId, options.pinHash, options.now],
  );
}

export async function pinExists(db: SqlExecutor, userId: string): Promise<boolean> {
  const rows = await db.query('select 1 from identity_pins where user_id = $1', [userId]);
  return rows.length === 1;
}

// --- devices -------------------------------------------------------------------------------------

interface DeviceRow {
  id: string;
  user_id: string;
  name: string;
  platform: DevicePlatform;
  created_at: Date;
  last_seen_at: Date;
  revoked_at: Date | null;
}

const deviceColumns = 'id, user_id, name, platform, created_at, last_seen_at, revoked_at';

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    platform: row.platform,
    createdAt: unixSeconds(row.created_at),
    lastSeenAt: unixSeconds(row.last_seen_at),
    revokedAt: row.revoked_at === null ? null : unixSeconds(row.revoked_at),
  };
}

export async function deviceCounts(tx: SqlExecutor, userId: string): Promise<{ active: number; ever: number }> {
  const rows = await tx.query<{ active: bigint; ever: bigint }>(
    `select count(*) filter (where revoked_at is null) as active, count(*) as ever
       from identity_devices where user_id = $1`,
    [userId],
  );
  return { active: Number(rows[0]?.active ?? 0n), ever: Number(rows[0]?.ever ?? 0n) };
}

/** Inserts the device unless this user already has a live one with that client id; true when inserted. */
export async function insertDeviceIfAbsent(
  tx: SqlExecutor,
  device: { id: string; userId: string; clientDeviceId: string; name: string; platform: DevicePlatform; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `insert into identity_devices (id, user_id, client_device_id, name, platform, created_at, last_seen_at)
     values ($1, $2, $3, $4, $5, $6, $6)
     on conflict (user_id, client_device_id) where revoked_at is null do nothing
     returning id`,
    [device.id, device.userId, device.clientDeviceId, device.name, device.platform, device.now],
  );
  return rows.length === 1;
}

/** Records a sign-in on the live device with this client id (name and platform may change); null if none. */
export async function touchDeviceByClientId(
  tx: SqlExecutor,
  device: { userId: string; clientDeviceId: string; name: string; platform: DevicePlatform; now: Date },
): Promise<string | null> {
  const rows = await tx.query<{ id: string }>(
    `update identity_devices set name = $3, platform = $4, last_seen_at = greatest(last_seen_at, $5)
      where user_id = $1 and client_device_id = $2 and revoked_at is null
      returning id`,
    [device.userId, device.clientDeviceId, device.name, device.platform, device.now],
  );
  assert(rows.length <= 1, 'a client device id has at most one live device per user');
  return rows[0]?.id ?? null;
}

export async function touchDevice(tx: SqlExecutor, options: { deviceId: string; now: Date }): Promise<void> {
  await tx.query(`update identity_devices set last_seen_at = greatest(last_seen_at, $2) where id = $1`, [
    options.deviceId,
    options.now,
  ]);
}

export async function listLiveDevices(db: SqlExecutor, options: { userId: string; max: number }): Promise<Device[]> {
  const rows = await db.query<DeviceRow>(
    `select ${deviceColumns} from identity_devices
      where user_id = $1 and revoked_at is null
      order by created_at desc, id limit $2`,
    [options.userId, options.max],
  );
  return rows.map(toDevice);
}

export async function findDevice(db: SqlExecutor, deviceId: string): Promise<Device | null> {
  const rows = await db.query<DeviceRow>(`select ${deviceColumns} from identity_devices where id = $1`, [deviceId]);
  return rows[0] === undefined ? null : toDevice(rows[0]);
}

/** Revokes a live device of this user; false when there is none (another user's, unknown, revoked). */
export async function revokeDevice(
  tx: SqlExecutor,
  options: { userId: string; deviceId: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `update identity_devices set revoked_at = $3
      where id = $1 and user_id = $2 and revoked_at is null
      returning id`,
    [options.deviceId, options.userId, options.now],
  );
  return rows.length === 1;
}

// --- sessions and refresh tokens -----------------------------------------------------------------

export type RevokedReason = 'signed_out' | 'device_revoked' | 'refresh_token_reused' | 'replaced';

export async function insertSession(
  tx: SqlExecutor,
  session: { id: string; userId: string; deviceId: string; now: Date },
): Promise<void> {
  await tx.query(`insert into identity_sessions (id, user_id, device_id, created_at) values ($1, $2, $3, $4)`, [
    session.id,
    session.userId,
    session.deviceId,
    session.now,
  ]);
}

export async function revokeSessionsOfDevice(
  tx: SqlExecutor,
  options: { deviceId: string; now: Date; reason: RevokedReason },
): Promise<number> {
  const rows = await tx.query(
    `update identity_sessions set revoked_at = $2, revoked_reason = $3
      where device_id = $1 and revoked_at is null
      returning id`,
    [options.deviceId, options.now, options.reason],
  );
  return rows.length;
}

/** Revokes a live session; true only for the call that revoked it. */
export async function revokeSession(
  tx: SqlExecutor,
  options: { sessionId: string; now: Date; reason: RevokedReason },
): Promise<boolean> {
  const rows = await tx.query(
    `update identity_sessions set revoked_at = $2, revoked_reason = $3
      where id = $1 and revoked_at is null
      returning id`,
    [options.sessionId, options.now, options.reason],
  );
  return rows.length === 1;
}

export interface SessionState {
  userId: string;
  deviceId: string;
  /** Neither the session nor its device is revoked. */
  live: boolean;
}

export async function findSession(db: SqlExecutor, sessionId: string): Promise<SessionState | null> {
  const rows = await db.query<{ user_id: string; device_id: string; live: boolean }>(
    `select s.user_id, s.device_id, (s.revoked_at is null and d.revoked_at is null) as live
       from identity_sessions s join identity_devices d on d.id = s.device_id
      where s.id = $1`,
    [sessionId],
  );
  const row = rows[0];
  return row === undefined ? null : { userId: row.user_id, deviceId: row.device_id, live: row.live };
}

export async function insertRefreshToken(
  tx: SqlExecutor,
  token: { hash: string; sessionId: string; now: Date; expiresAt: Date },
): Promise<void> {
  await tx.query(
    `insert into identity_refresh_tokens (token_hash, session_id, created_at, expires_at) values ($1, $2, $3, $4)`,
    [token.hash, token.sessionId, token.now, token.expiresAt],
  );
}

/**
 * Marks an unused, unexpired token used and returns its session. Under READ COMMITTED a concurrent
 * second use waits for the first to commit, re-reads the row, finds used_at set and gets nothing:
 * exactly one caller rotates a token.
 */
export async function useRefreshToken(
  tx: SqlExecutor,
  options: { hash: string; now: Date },
): Promise<{ sessionId: string } | null> {
  const rows = await tx.query<{ session_id: string }>(
    `update identity_refresh_tokens set used_at = $2
      where token_hash = $1 and used_at is null and expires_at > $2
      returning session_id`,
    [options.hash, options.now],
  );
  return rows[0] === undefined ? null : { sessionId: rows[0].session_id };
}

export async function findRefreshToken(
  tx: SqlExecutor,
  hash: string,
): Promise<{ sessionId: string; usedAt: Date | null; expiresAt: Date } | null> {
  const rows = await tx.query<{ session_id: string; used_at: Date | null; expires_at: Date }>(
    `select session_id, used_at, expires_at from identity_refresh_tokens where token_hash = $1`,
    [hash],
  );
  const row = rows[0];
  return row === undefined ? null : { sessionId: row.session_id, usedAt: row.used_at, expiresAt: row.expires_at };
}

export async function deleteExpiredRefreshTokens(
  db: SqlExecutor,
  options: { now: Date; batchMax: number },
): Promise<number> {
  const rows = await db.query(
    `delete from identity_refresh_tokens where token_hash in (
       select token_hash from identity_refresh_tokens where expires_at <= $1 limit $2
     ) returning 1`,
    [options.now, options.batchMax],
  );
  return rows.length;
}

// --- signing keys --------------------------------------------------------------------------------

export interface SigningKeyRow {
  kid: string;
  generation: number;
  publicJwk: Record<string, unknown>;
  privateKeyPkcs8: string;
}

export async function listSigningKeys(db: SqlExecutor): Promise<SigningKeyRow[]> {
  const rows = await db.query<{
    kid: string;
    generation: number;
    public_jwk: Record<string, unknown>;
    private_key_pkcs8: string;
  }>(
    `select kid, generation, public_jwk, private_key_pkcs8 from identity_signing_keys
      where retired_at is null order by generation desc`,
  );
  return rows.map((row) => ({
    kid: row.kid,
    generation: row.generation,
    publicJwk: row.public_jwk,
    privateKeyPkcs8: row.private_key_pkcs8,
  }));
}

/** Inserts a key for this generation unless some node already did; the caller reads back the winner. */
export async function insertSigningKeyIfAbsent(db: SqlExecutor, key: SigningKeyRow & { now: Date }): Promise<void> {
  await db.query(
    `insert into identity_signing_keys (kid, generation, algorithm, public_jwk, private_key_pkcs8, created_at)
     values ($1, $2, 'EdDSA', $3::text::jsonb, $4, $5)
     on conflict do nothing`,
    [key.kid, key.generation, JSON.stringify(key.publicJwk), key.privateKeyPkcs8, key.now],
  );
}
