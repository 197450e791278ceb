import { hash } from 'node:crypto';

/**
 * What an audited call did: read, search or export patient data, write it (ADT, imports, HL7),
 * or an authentication event (sign-in, refused token, device issued).
 */
export const auditActions = ['read', 'search', 'export', 'write', 'auth'] as const;
export type AuditAction = (typeof auditActions)[number];

/** allowed: done; denied: refused by access control; error: allowed, but it failed. */
export const auditOutcomes = ['allowed', 'denied', 'error'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/**
 * One row of the audit log with its field values exactly as they are hashed. Ids and instants
 * are strings (a bigint id, an ISO 8601 instant in UTC with milliseconds); lists are sorted.
 */
export interface AuditRecord {
  id: string;
  at: string;
  source: string;
  operation: string;
  action: AuditAction;
  actorKind: string;
  actorId: string;
  roles: readonly string[];
  deviceId: string | null;
  purpose: string;
  resourceType: string;
  resourceId: string | null;
  patientIds: readonly string[];
  outcome: AuditOutcome;
  reason: string | null;
  requestId: string | null;
  clientAddress: string | null;
}

/** Version tag, first element of every canonical row: a new encoding gets a new tag. */
export const canonicalVersion = '1';

/**
 * The canonical encoding of a row: the UTF-8 bytes of the JSON array
 *
 *   ["1", id, at, source, operation, action, actorKind, actorId, roles, deviceId, purpose,
 *    resourceType, resourceId, patientIds, outcome, reason, requestId, clientAddress]
 *
 * as ECMAScript's JSON.stringify writes it: no whitespace, strings escaped only where JSON
 * requires (`"`, `\`, control characters; lowercase `\u00xx`), null for a missing value, and
 * every other character as itself. `id` is a decimal string, `at` an ISO 8601 instant such
 * as `2026-12-03T21:10:00.123Z`, `roles` and `patientIds` arrays of strings (patient ids are
 * lowercase UUIDs). The order and this encoding never change for version "1"; verify
 * (binary-row.ts) writes the same bytes from the database's binary form, which a property
 * test holds to this definition.
 */
export function canonicalRow(record: AuditRecord): string {
  return JSON.stringify([
    canonicalVersion,
    record.id,
    record.at,
    record.source,
    record.operation,
    record.action,
    record.actorKind,
    record.actorId,
    record.roles,
    record.deviceId,
    record.purpose,
    record.resourceType,
    record.resourceId,
    record.patientIds,
    record.outcome,
    record.reason,
    record.requestId,
    record.clientAddress,
  ]);
}

/** The hash before the first row: 32 zero bytes. */
export const genesisHash: Buffer = Buffer.alloc(32);

/** sha256(previous ‖ canonical): the hash a row carries, chaining it to the one before. */
export function chainHash(previous: Uint8Array, canonical: string | Uint8Array): Buffer {
  const bytes = typeof canonical === 'string' ? Buffer.from(canonical, 'utf8') : canonical;
  const input = Buffer.allocUnsafe(previous.length + bytes.length);
  input.set(previous, 0);
  input.set(bytes, previous.length);
  return hash('sha256', input, 'buffer');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID as PostgreSQL prints it (lowercase), or undefined when the text is not one. */
export function canonicalUuid(value: string): string | undefined {
  const lower = value.toLowerCase();
  return uuidPattern.test(lower) ? lower : undefined;
}

/**
 * Text as PostgreSQL will store and return it: well-formed UTF-16 (a lone surrogate would be
 * stored as U+FFFD but hashed as an escape) and no NUL (which PostgreSQL text cannot hold).
 */
export function canonicalText(value: string): string {
  const wellFormed = value.toWellFormed();
  return wellFormed.includes('\0') ? wellFormed.replaceAll('\0', '\uFFFD') : wellFormed;
}

export function canonicalTextOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : canonicalText(value);
}

/** The instant as hashed; the column is timestamptz(3), so milliseconds survive exactly. */
export function canonicalInstant(at: Date): string {
  const ms = at.getTime();
  // Beyond these years toISOString writes a six-digit year with a sign, which the database
  // would print differently: an audit time there is a bug, not data.
  if (!(ms >= Date.UTC(1, 0, 1) && ms < Date.UTC(10_000, 0, 1))) {
    throw new RangeError(`audit time out of range: ${String(at)}`);
  }
  return at.toISOString();
}
