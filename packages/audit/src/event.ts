import {
  auditActions,
  auditOutcomes,
  canonicalInstant,
  canonicalText,
  canonicalTextOrNull,
  canonicalUuid,
  type AuditAction,
  type AuditOutcome,
  type AuditRecord,
} from './canonical.ts';

/** Who acted, as the audit records it. */
export interface AuditActor {
  /** user, device, system, cli, or anonymous when no credential was recognised. */
  kind: string;
  id: string;
  roles?: readonly string[] | undefined;
  /** The wall display or workstation the call came from, when known. */
  deviceId?: string | null | undefined;
}

/** What a caller tells the audit about one audited call (AuditWriter.record). */
export interface AuditEvent {
  /** When it happened; the time it is recorded by default. */
  at?: Date | undefined;
  /** Where the call came from: api, auth, hl7, seed, simulator, import:mimic, … */
  source: string;
  /** The procedure, command or auth action: `patients.get`, `adt.admit`, `login`, … */
  operation: string;
  action: AuditAction;
  actor: AuditActor;
  /** Purpose of use the call was made under (treatment, operations, …). */
  purpose: string;
  /** What was acted on: patient, encounter, bed, user, device, … */
  resourceType: string;
  resourceId?: string | null | undefined;
  /** Patients the call read or wrote (opaque ids). Order and repeats do not matter. */
  patientIds?: Iterable<string> | undefined;
  /**
   * Encounters the call touched: the writer adds their patients to `patientIds` with one
   * query per flush, so callers that know only an encounter (ADT commands) need no lookup.
   */
  encounterIds?: Iterable<string> | undefined;
  outcome: AuditOutcome;
  /** Machine-readable why, for denials and errors: `FORBIDDEN`, `CONFLICT:bed_occupied`, … */
  reason?: string | null | undefined;
  requestId?: string | null | undefined;
  clientAddress?: string | null | undefined;
}

/** A record without its id (assigned in the flush), and the encounters still to resolve. */
export interface PendingRecord {
  record: Omit<AuditRecord, 'id'>;
  encounterIds: string[];
}

/**
 * Checks an event and puts every field in its canonical form, so the bytes hashed are the
 * bytes PostgreSQL returns. Ids that are not UUIDs are dropped from the patient and
 * encounter lists (a malformed id names no patient, and must not fail a whole batch).
 */
export function normalizeEvent(event: AuditEvent, now: Date): PendingRecord {
  if (!(auditActions as readonly string[]).includes(event.action)) {
    throw new TypeError(`unknown audit action ${event.action}`);
  }
  if (!(auditOutcomes as readonly string[]).includes(event.outcome)) {
    throw new TypeError(`unknown audit outcome ${event.outcome}`);
  }
  return {
    record: {
      at: canonicalInstant(event.at ?? now),
      source: canonicalText(event.source),
      operation: canonicalText(event.operation),
      action: event.action,
      actorKind: canonicalText(event.actor.kind),
      actorId: canonicalText(event.actor.id),
      roles: sortedUnique((event.actor.roles ?? []).map(canonicalText)),
      deviceId: canonicalTextOrNull(event.actor.deviceId),
      purpose: canonicalText(event.purpose),
      resourceType: canonicalText(event.resourceType),
      resourceId: canonicalTextOrNull(event.resourceId),
      patientIds: uuids(event.patientIds),
      outcome: event.outcome,
      reason: canonicalTextOrNull(event.reason),
      requestId: canonicalTextOrNull(event.requestId),
      clientAddress: canonicalTextOrNull(event.clientAddress),
    },
    encounterIds: uuids(event.encounterIds),
  };
}

function uuids(values: Iterable<string> | undefined): string[] {
  const out: string[] = [];
  for (const value of values ?? []) {
    const uuid = canonicalUuid(value);
    if (uuid) out.push(uuid);
  }
  return sortedUnique(out);
}

/** Sorted by UTF-16 code units, the same order wherever the row is rebuilt. */
export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
