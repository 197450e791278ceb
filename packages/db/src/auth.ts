import { ErrorCode, MedaxisError } from '@medaxis/domain';

import type { Queryable } from './pool.ts';

/*
 * Rows behind sign-in and wall displays (packages/auth holds the rules). Session and device
 * token ids are the hex SHA-256 of the secret the client holds; the secret never reaches the
 * database.
 */

export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  departments: string[];
  active: boolean;
  passwordChangedAt: Date;
  createdAt: Date;
}

export interface UserWithPassword extends UserRow {
  passwordHash: string;
}

export interface SessionRow {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
}

export interface DeviceTokenRow {
  id: string;
  label: string;
  /** A department code, or null for the whole hospital. */
  board: string | null;
  issuedBy: string | null;
  /** Username of the issuer, null when MedAxis issued it (`npm start`). */
  issuedByUsername: string | null;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
}

const userColumns = `u.id, u.username, u.display_name AS "displayName", u.roles, u.departments,
  u.active, u.password_changed_at AS "passwordChangedAt", u.created_at AS "createdAt"`;

const deviceColumns = `d.id, d.label, d.board, d.issued_by AS "issuedBy",
  u.username AS "issuedByUsername", d.issued_at AS "issuedAt", d.expires_at AS "expiresAt",
  d.revoked_at AS "revokedAt", d.last_seen_at AS "lastSeenAt"`;

// ---- users ---------------------------------------------------------------------------------

/** Adds a user; a username already taken (in any case) is a CONFLICT, nothing written. */
export async function insertUser(
  db: Queryable,
  user: Pick<UserWithPassword, 'username' | 'displayName' | 'passwordHash' | 'roles'> & {
    departments: readonly string[];
  },
): Promise<UserRow> {
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO app_user AS u (username, display_name, password_hash, roles, departments)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING ${userColumns}`,
      [user.username, user.displayName, user.passwordHash, user.roles, user.departments],
    );
    return rows[0]!;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new MedaxisError(
        ErrorCode.conflict,
        'username_taken',
        `A user named ${user.username} exists already.`,
        { cause: error },
      );
    }
    throw error;
  }
}

export async function findUserByUsername(
  db: Queryable,
  username: string,
): Promise<UserWithPassword | undefined> {
  const { rows } = await db.query<UserWithPassword>(
    `SELECT ${userColumns}, u.password_hash AS "passwordHash" FROM app_user u
      WHERE u.username = $1`,
    [username],
  );
  return rows[0];
}

export async function findUserById(
  db: Queryable,
  id: string,
): Promise<UserWithPassword | undefined> {
  const { rows } = await db.query<UserWithPassword>(
    `SELECT ${userColumns}, u.password_hash AS "passwordHash" FROM app_user u WHERE u.id = $1`,
    [id],
  );
  return rows[0];
}

export async function listUsers(db: Queryable): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${userColumns} FROM app_user u ORDER BY u.username`,
  );
  return rows;
}

export async function countUsers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM app_user`);
  return rows[0]!.n;
}

/** Locks the user's row for the rest of the transaction (password change, deactivation). */
export async function lockUser(db: Queryable, id: string): Promise<UserWithPassword | undefined> {
  const { rows } = await db.query<UserWithPassword>(
    `SELECT ${userColumns}, u.password_hash AS "passwordHash" FROM app_user u
      WHERE u.id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

export async function setUserActive(db: Queryable, id: string, active: boolean): Promise<void> {
  await db.query(`UPDATE app_user SET active = $2 WHERE id = $1`, [id, active]);
}

export async function setUserPassword(
  db: Queryable,
  id: string,
  passwordHash: string,
  at: Date,
): Promise<void> {
  await db.query(`UPDATE app_user SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, [
    id,
    passwordHash,
    at,
  ]);
}

// ---- sessions ------------------------------------------------------------------------------

export async function insertSession(
  db: Queryable,
  session: Omit<SessionRow, 'lastSeenAt'> & { address: string | null; userAgent: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO session (id, user_id, created_at, expires_at, last_seen_at, address, user_agent)
     VALUES ($1, $2, $3, $4, $3, $5, $6)`,
    [
      session.id,
      session.userId,
      session.createdAt,
      session.expiresAt,
      session.address,
      session.userAgent?.slice(0, 512) ?? null,
    ],
  );
}

/** A session and its user, expired or not: the caller decides (and says why it refuses). */
export async function findSession(
  db: Queryable,
  id: string,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const { rows } = await db.query<SessionRow & { user: UserRow }>(
    `SELECT s.id, s.user_id AS "userId", s.created_at AS "createdAt",
            s.expires_at AS "expiresAt", s.last_seen_at AS "lastSeenAt",
            json_build_object('id', u.id, 'username', u.username, 'displayName', u.display_name,
              'roles', u.roles, 'departments', u.departments, 'active', u.active,
              'passwordChangedAt', u.password_changed_at, 'createdAt', u.created_at) AS "user"
       FROM session s JOIN app_user u ON u.id = s.user_id
      WHERE s.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { user, ...session } = row;
  return {
    session,
    user: {
      ...user,
      passwordChangedAt: new Date(user.passwordChangedAt),
      createdAt: new Date(user.createdAt),
    },
  };
}

/** Slides the session's expiry; false when it is gone (revoked meanwhile). */
export async function extendSession(
  db: Queryable,
  id: string,
  lastSeenAt: Date,
  expiresAt: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE session SET last_seen_at = $2, expires_at = $3 WHERE id = $1`,
    [id, lastSeenAt, expiresAt],
  );
  return rowCount === 1;
}

export async function deleteSession(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM session WHERE id = $1`, [id]);
  return rowCount === 1;
}

/** Ends every session of a user, but `keep` if given; returns how many ended. */
export async function deleteUserSessions(
  db: Queryable,
  userId: string,
  keep?: string,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM session WHERE user_id = $1 AND id IS DISTINCT FROM $2`,
    [userId, keep ?? null],
  );
  return rowCount ?? 0;
}

export async function deleteExpiredSessions(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM session WHERE expires_at <= $1`, [now]);
  return rowCount ?? 0;
}

// ---- device tokens -------------------------------------------------------------------------

export async function insertDeviceToken(
  db: Queryable,
  device: Pick<DeviceTokenRow, 'id' | 'label' | 'board' | 'issuedBy' | 'issuedAt' | 'expiresAt'>,
): Promise<DeviceTokenRow> {
  await db.query(
    `INSERT INTO device_token (id, label, board, issued_by, issued_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [device.id, device.label, device.board, device.issuedBy, device.issuedAt, device.expiresAt],
  );
  return (await findDeviceToken(db, device.id))!;
}

export async function findDeviceToken(
  db: Queryable,
  id: string,
): Promise<DeviceTokenRow | undefined> {
  const { rows } = await db.query<DeviceTokenRow>(
    `SELECT ${deviceColumns} FROM device_token d LEFT JOIN app_user u ON u.id = d.issued_by
      WHERE d.id = $1`,
    [id],
  );
  return rows[0];
}

/** Every device token, newest first, revoked and expired ones included (they explain gaps). */
export async function listDeviceTokens(db: Queryable): Promise<DeviceTokenRow[]> {
  const { rows } = await db.query<DeviceTokenRow>(
    `SELECT ${deviceColumns} FROM device_token d LEFT JOIN app_user u ON u.id = d.issued_by
      ORDER BY d.issued_at DESC, d.id`,
  );
  return rows;
}

export async function touchDeviceToken(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(`UPDATE device_token SET last_seen_at = $2 WHERE id = $1`, [id, at]);
}

/** Revokes a token; a second revocation keeps the first time. Undefined for an unknown id. */
export async function revokeDeviceToken(
  db: Queryable,
  id: string,
  at: Date,
): Promise<DeviceTokenRow | undefined> {
  const { rowCount } = await db.query(
    `UPDATE device_token SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`,
    [id, at],
  );
  return rowCount === 1 ? findDeviceToken(db, id) : undefined;
}

// ---- live connections ----------------------------------------------------------------------

/**
 * Which of these sessions and device tokens still open a connection at `now`: sessions not
 * expired whose user is active, device tokens neither expired nor revoked. One query for all
 * the websockets of a server instance.
 */
export async function findValidCredentials(
  db: Queryable,
  ids: { sessions: readonly string[]; devices: readonly string[] },
  now: Date,
): Promise<{ sessions: Set<string>; devices: Set<string> }> {
  const { rows } = await db.query<{ kind: 'session' | 'device'; id: string }>(
    `SELECT 'session' AS kind, s.id FROM session s JOIN app_user u ON u.id = s.user_id
      WHERE s.id = ANY($1::text[]) AND s.expires_at > $3 AND u.active
     UNION ALL
     SELECT 'device', d.id FROM device_token d
      WHERE d.id = ANY($2::text[]) AND d.expires_at > $3 AND d.revoked_at IS NULL`,
    [ids.sessions, ids.devices, now],
  );
  const valid = { sessions: new Set<string>(), devices: new Set<string>() };
  for (const row of rows) (row.kind === 'session' ? valid.sessions : valid.devices).add(row.id);
  return valid;
}
