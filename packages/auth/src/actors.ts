import type { DeviceTokenRow, Queryable, SessionRow, UserRow } from '@medaxis/db';
import type { Actor } from '@medaxis/policy';

import { validateDeviceToken, type DeviceRefusal } from './devices.ts';
import {
  defaultSessionPolicy,
  validateSessionToken,
  type SessionPolicy,
  type SessionRefusal,
} from './sessions.ts';

export function userActor(user: UserRow, sessionId: string): Actor {
  return {
    kind: 'user',
    id: user.id,
    username: user.username,
    roles: user.roles,
    departments: user.departments,
    sessionId,
  };
}

/** A wall display: the one read-only role, and the one board its token names. */
export function deviceActor(device: DeviceTokenRow): Actor {
  return {
    kind: 'device',
    id: device.id,
    board: device.board,
    roles: ['wall_display'],
    departments: device.board === null ? '*' : [device.board],
  };
}

/** What a request carries: the session cookie and/or a device token (cookie or bearer). */
export interface Credentials {
  sessionToken?: string | undefined;
  deviceToken?: string | undefined;
}

export type Refusal =
  | { credential: 'session'; reason: SessionRefusal; userId?: string }
  | { credential: 'device'; reason: DeviceRefusal; deviceId?: string };

export interface Resolution {
  /** Who the request acts as; null when no credential holds (the API answers UNAUTHORIZED). */
  actor: Actor | null;
  /** The session behind a user actor; `refreshed` when its expiry moved (resend the cookie). */
  session?: SessionRow & { refreshed: boolean };
  device?: DeviceTokenRow;
  /** Credentials presented and refused, for the server log and the audit. */
  refusals: Refusal[];
}

/**
 * Turns a request's credentials into an actor. A valid session wins over a device token (a
 * person signing in at a wall display acts as themselves); a refused one falls back to the
 * device token. Nothing presented, or nothing valid: no actor.
 */
export async function resolveActor(
  db: Queryable,
  credentials: Credentials,
  now: Date,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<Resolution> {
  const refusals: Refusal[] = [];

  if (credentials.sessionToken !== undefined) {
    const result = await validateSessionToken(db, credentials.sessionToken, now, policy);
    if (result.ok) {
      return {
        actor: userActor(result.user, result.session.id),
        session: { ...result.session, refreshed: result.refreshed },
        refusals,
      };
    }
    refusals.push({ credential: 'session', reason: result.reason });
  }

  if (credentials.deviceToken !== undefined) {
    const result = await validateDeviceToken(db, credentials.deviceToken, now);
    if (result.ok) return { actor: deviceActor(result.device), device: result.device, refusals };
    refusals.push({
      credential: 'device',
      reason: result.reason,
      ...(result.device ? { deviceId: result.device.id } : {}),
    });
  }

  return { actor: null, refusals };
}
