import { auditWriterFor } from '@medaxis/audit';
import type { Db } from '@medaxis/db';
import { pino } from 'pino';

/** Everything sign-in and device management does that a compliance officer may ask about. */
export const authActions = [
  'login',
  'logout',
  'password_changed',
  'password_reset',
  'user_added',
  'user_disabled',
  'session_refused',
  'device_token_refused',
  'device_issued',
  'device_revoked',
  'device_setup',
  'cross_origin_refused',
  'login_rate_limited',
] as const;
export type AuthAction = (typeof authActions)[number];

export interface AuthAuditEvent {
  action: AuthAction;
  outcome: 'success' | 'failure';
  /** Machine-readable why, for failures: `wrong_password`, `expired`, `unknown_role`, … */
  reason?: string | undefined;
  /** Who acted: a user id, a device token id, 'system', or null when nobody was recognised. */
  actor?: { kind: 'user' | 'device' | 'system' | 'cli'; id: string } | null;
  /** The username given at sign-in or to `medaxis user …` (names a staff member, no patient). */
  username?: string | undefined;
  /** What was acted on: a user id, a device token id. */
  target?: string | undefined;
  requestId?: string | undefined;
  address?: string | null | undefined;
}

/** The slice of a pino logger the hook writes to. */
export interface AuditLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** For callers without a logger of their own (API procedures, the CLI): JSON lines on stderr. */
const fallbackLog: AuditLogger = pino({ base: { app: 'auth' } }, pino.destination(2));

/**
 * THE audit hook for authentication and device management: every sign-in, sign-out, refused
 * credential, password change, user change and device issue or revocation passes here, from
 * the server (apps/server/src/auth), the API (devices.*, users.*) and the CLI (`medaxis user`,
 * `npm start`). It records an `auth` row in the audit log (packages/audit, through the
 * process's writer for `db`) and resolves once the row is committed; callers await it before
 * they answer. A refusal is a `denied` row with its reason. The log line stays, for operators.
 */
export async function auditAuthEvent(
  db: Db,
  event: AuthAuditEvent,
  log: AuditLogger = fallbackLog,
): Promise<void> {
  // `address` is redacted in logs as a patient field: the client's goes by another name.
  const { address, ...rest } = event;
  const entry = { audit: 'auth', ...rest, clientAddress: address };
  if (event.outcome === 'failure') log.warn(entry, 'auth event refused');
  else log.info(entry, 'auth event');

  const actor = event.actor ?? { kind: 'anonymous', id: 'anonymous' };
  await auditWriterFor(db).record({
    source: 'auth',
    operation: event.action,
    action: 'auth',
    actor: { ...actor, deviceId: actor.kind === 'device' ? actor.id : null },
    purpose: 'operations',
    resourceType: event.action.startsWith('device') ? 'device' : 'user',
    // What was acted on; for a sign-in attempt, the account it named.
    resourceId: event.target ?? event.username ?? null,
    outcome: event.outcome === 'success' ? 'allowed' : 'denied',
    reason: event.reason ?? null,
    requestId: event.requestId ?? null,
    clientAddress: event.address ?? null,
  });
}
