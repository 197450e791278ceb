import {
  deleteSession,
  extendSession,
  findSession,
  insertSession,
  type Queryable,
  type SessionRow,
  type UserRow,
} from '@medaxis/db';

import { generateToken, isWellFormedToken, tokenId } from './tokens.ts';

export interface SessionPolicy {
  /** A session unused for this long ends (sliding expiry). */
  idleTimeoutMs: number;
  /** A session ends this long after sign-in however busy it is: a stolen cookie dies too. */
  maxLifetimeMs: number;
  /**
   * Use is recorded at most this often, so a busy browser does not write a row per request;
   * the idle timeout is therefore exact to within this interval.
   */
  touchIntervalMs: number;
}

/** A shift and a half idle, a week at most (docs: README "Signing in"). */
export const defaultSessionPolicy: SessionPolicy = {
  idleTimeoutMs: 12 * 3_600_000,
  maxLifetimeMs: 7 * 86_400_000,
  touchIntervalMs: 60_000,
};

export interface SessionMeta {
  address: string | null;
  userAgent: string | null;
}

export interface NewSession {
  /** The secret for the cookie; returned once, stored only as its hash (`session.id`). */
  token: string;
  session: SessionRow;
}

export async function createSession(
  db: Queryable,
  userId: string,
  meta: SessionMeta,
  now: Date,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<NewSession> {
  const token = generateToken();
  const session: SessionRow = {
    id: tokenId(token),
    userId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: nextExpiry(now, now, policy),
  };
  await insertSession(db, { ...session, ...meta });
  return { token, session };
}

/** Why a session token opened nothing; the server log and the audit say it, the client not. */
export type SessionRefusal = 'malformed' | 'unknown' | 'expired' | 'user_disabled';

export type SessionValidation =
  | { ok: true; session: SessionRow; user: UserRow; refreshed: boolean }
  | { ok: false; reason: SessionRefusal };

/**
 * The session a token opens at `now`, with its expiry slid forward when it was last used more
 * than `touchIntervalMs` ago (`refreshed`: send the cookie again with the new expiry). An
 * expired session is deleted on sight. `unknown` covers forged tokens and revoked sessions
 * alike: both are simply not in the table.
 */
export async function validateSessionToken(
  db: Queryable,
  token: unknown,
  now: Date,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<SessionValidation> {
  if (!isWellFormedToken(token)) return { ok: false, reason: 'malformed' };
  const found = await findSession(db, tokenId(token));
  if (!found) return { ok: false, reason: 'unknown' };
  const { session, user } = found;

  if (now.getTime() >= session.expiresAt.getTime()) {
    await deleteSession(db, session.id);
    return { ok: false, reason: 'expired' };
  }
  if (!user.active) return { ok: false, reason: 'user_disabled' };

  if (now.getTime() - session.lastSeenAt.getTime() < policy.touchIntervalMs) {
    return { ok: true, session, user, refreshed: false };
  }
  const expiresAt = nextExpiry(session.createdAt, now, policy);
  // Revoked between the read and now: the session is gone, and so is this request's.
  if (!(await extendSession(db, session.id, now, expiresAt))) {
    return { ok: false, reason: 'unknown' };
  }
  return { ok: true, session: { ...session, lastSeenAt: now, expiresAt }, user, refreshed: true };
}

/** Ends one session (sign-out). True when it existed. */
export function invalidateSession(db: Queryable, sessionId: string): Promise<boolean> {
  return deleteSession(db, sessionId);
}

function nextExpiry(createdAt: Date, now: Date, policy: SessionPolicy): Date {
  return new Date(
    Math.min(now.getTime() + policy.idleTimeoutMs, createdAt.getTime() + policy.maxLifetimeMs),
  );
}
