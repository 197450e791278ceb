import { ensureEncounterStatement, type EncounterInput } from './catalog.ts';
import { readVisitWorld, visitWorldStatements } from './commands.ts';
import { patientByIdentifier, resolvePatientIdentifier } from './patient-records.ts';
import {
  bind,
  inlineParams,
  prepared,
  queryPrepared,
  queryStatements,
  type BoundStatement,
  type Queryable,
  type Statement,
  type Tx,
} from './pool.ts';

// Repositories for the HL7 v2 feed (packages/interop/src/hl7, docs/hl7.md).

export const hl7MessageStatuses = [
  'received',
  'applied',
  'rejected',
  'unsupported',
  'duplicate',
  'batch',
] as const;
export type Hl7MessageStatus = (typeof hl7MessageStatuses)[number];
export type Hl7AckCode = 'AA' | 'AE' | 'AR';

export interface Hl7RawInput {
  raw: Buffer;
  peer: string;
  payloadHash: string;
  batchId?: string;
  batchIndex?: number;
}

/**
 * Stores messages exactly as received, before anything reads them; one statement, so one
 * commit covers several frames that arrived together. Returns their ids in input order.
 */
export async function insertHl7Raw(db: Queryable, messages: readonly Hl7RawInput[]) {
  if (messages.length === 0) return [];
  const { rows } = await queryPrepared<{ id: string }>(db, insertRaw, [
    messages.map((message) => message.raw),
    messages.map((message) => clean(message.peer)),
    messages.map((message) => message.payloadHash),
    messages.map((message) => message.batchId ?? null),
    messages.map((message) => message.batchIndex ?? null),
  ]);
  // INSERT ... SELECT FROM unnest keeps the order of the arrays, and so do the ids.
  return rows.map((row) => row.id);
}

const insertRaw = prepared(
  'hl7_insert_raw',
  `INSERT INTO hl7_message (raw, peer, payload_hash, batch_id, batch_index)
   SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::bigint[], $5::int[])
   RETURNING id::text AS id`,
);

/** What processing found out about a message; every field but status is optional. */
export interface Hl7Outcome {
  status: Exclude<Hl7MessageStatus, 'received'>;
  ackCode: Hl7AckCode | null;
  controlId?: string | null;
  messageType?: string | null;
  eventType?: string | null;
  eventTypeRule?: string | null;
  eventTime?: Date | null;
  sendingFacility?: string | null;
  errorCode?: string | null;
  errorReason?: string | null;
  errorMessage?: string | null;
  note?: string | null;
  zSegments?: { name: string; text: string }[] | null;
  appliedEventId?: string | null;
  duplicateOf?: string | null;
}

const outcomeUpdate = `
  UPDATE hl7_message
     SET status = $2::hl7_message_status, ack_code = $3, control_id = $4, message_type = $5,
         event_type = $6, event_type_rule = $7, event_time = $8, sending_facility = $9,
         error_code = $10, error_reason = $11, error_message = $12, note = $13,
         z_segments = $14::jsonb, applied_event_id = $15, duplicate_of = $16,
         attempts = attempts + 1, processed_at = now()
   WHERE id = $1`;

function outcomeParams(id: string, outcome: Hl7Outcome) {
  return [
    id,
    outcome.status,
    outcome.ackCode,
    clean(outcome.controlId),
    clean(outcome.messageType),
    clean(outcome.eventType),
    clean(outcome.eventTypeRule),
    outcome.eventTime ?? null,
    clean(outcome.sendingFacility),
    outcome.errorCode ?? null,
    clean(outcome.errorReason),
    clean(outcome.errorMessage),
    clean(outcome.note),
    outcome.zSegments?.length
      ? JSON.stringify(
          outcome.zSegments.map((segment) => ({
            name: clean(segment.name),
            text: clean(segment.text),
          })),
        )
      : null,
    outcome.appliedEventId ?? null,
    outcome.duplicateOf ?? null,
  ] as const;
}

/** Records an outcome (a reprocessing overwrites the previous one) and counts the attempt. */
export async function recordHl7Outcome(db: Queryable, id: string, outcome: Hl7Outcome) {
  await db.query(outcomeUpdate, [...outcomeParams(id, outcome)]);
}

/** One message's outcome, for hl7OutcomesStatement. */
export interface Hl7OutcomeRow {
  id: string;
  outcome: Hl7Outcome;
  /**
   * When the message's event is appended in the same transaction, just before (by
   * appendEventsStatement): how many events were appended after it. Its id is then the event
   * counter's last id minus this, read under the counter's lock; `outcome.appliedEventId` is
   * ignored.
   */
  eventsAfter?: number | undefined;
}

/**
 * Records the outcomes of several messages (as recordHl7Outcome each) as one plain statement,
 * to send with COMMIT: a batch's outcomes travel with its commit instead of costing round
 * trips of their own.
 */
export function hl7OutcomesStatement(rows: readonly Hl7OutcomeRow[]): BoundStatement {
  const params = rows.map(({ id, outcome }) => outcomeParams(id, outcome));
  const column = (index: number) => params.map((row) => row[index] ?? null);
  return bind(recordOutcomes, [
    ...Array.from({ length: 16 }, (_, index) => column(index)),
    rows.map((row) => row.eventsAfter ?? null),
  ]);
}

const recordOutcomes = prepared(
  'hl7_record_outcomes',
  `UPDATE hl7_message m
      SET status = v.status, ack_code = v.ack_code, control_id = v.control_id,
          message_type = v.message_type, event_type = v.event_type,
          event_type_rule = v.event_type_rule, event_time = v.event_time,
          sending_facility = v.sending_facility, error_code = v.error_code,
          error_reason = v.error_reason, error_message = v.error_message, note = v.note,
          z_segments = v.z_segments,
          applied_event_id = CASE WHEN v.events_after IS NULL THEN v.applied_event_id
            ELSE (SELECT last_id FROM event_counter WHERE id = 1) - v.events_after END,
          duplicate_of = v.duplicate_of, attempts = m.attempts + 1, processed_at = now()
     FROM unnest($1::bigint[], $2::hl7_message_status[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[],
                 $11::text[], $12::text[], $13::text[], $14::jsonb[], $15::bigint[],
                 $16::bigint[], $17::int[])
       AS v(id, status, ack_code, control_id, message_type, event_type, event_type_rule,
            event_time, sending_facility, error_code, error_reason, error_message, note,
            z_segments, applied_event_id, duplicate_of, events_after)
    WHERE m.id = v.id`,
);

/**
 * The statements that open a message's processing (run with BEGIN, `withTransaction`'s
 * `begin`, one round trip). The first locks the message's row, so two processors (a
 * reprocess and the recovery sweep, or two servers) never apply one message twice, and takes
 * a lock on the payload hash, so two copies arriving at once on two connections cannot both
 * apply. The second looks for an applied copy: a statement of its own, because a statement
 * sees only what committed before it began, and the copy may commit while the first waits
 * for the hash lock. Read the answers with `readHl7Claim`.
 */
export function claimHl7MessageStatements(id: string, payloadHash: string): Statement[] {
  return [bind(lockMessage, [id, payloadHash]), inlineParams(findAppliedCopy, [id, payloadHash])];
}

const lockMessage = prepared(
  'hl7_lock_message',
  `SELECT status::text AS status, pg_advisory_xact_lock(hashtextextended($2::text, 7))
     FROM hl7_message WHERE id = $1::bigint FOR UPDATE`,
);

// Planned on every call, not prepared: without statistics, (status, id) and the partial index
// hl7_message_applied_copy_idx cost the same on a small log, and a plan kept from a server's
// first messages that walks (status, id) reads every applied message for each new one (seen
// in bench:hl7: 100 pages a call). Planned per call, the choice follows the log's size.
const findAppliedCopy = `
  SELECT id::text AS id FROM hl7_message
   WHERE payload_hash = $2 AND status = 'applied' AND id <> $1::bigint
   ORDER BY hl7_message.id LIMIT 1`;

/** The message's status when it was locked, and the applied message it repeats, if any. */
export function readHl7Claim(results: readonly { rows: unknown[] }[]) {
  const [locked, copy] = results;
  return {
    status: (locked?.rows[0] as { status: Hl7MessageStatus } | undefined)?.status,
    appliedCopy: (copy?.rows[0] as { id: string } | undefined)?.id,
  };
}

export interface Hl7MessageRow {
  id: string;
  receivedAt: string;
  peer: string;
  batchId: string | null;
  batchIndex: number | null;
  controlId: string | null;
  messageType: string | null;
  eventType: string | null;
  eventTypeRule: string | null;
  eventTime: string | null;
  sendingFacility: string | null;
  status: Hl7MessageStatus;
  ackCode: Hl7AckCode | null;
  errorCode: string | null;
  errorReason: string | null;
  errorMessage: string | null;
  note: string | null;
  attempts: number;
  processedAt: string | null;
  appliedEventId: string | null;
  duplicateOf: string | null;
  payloadHash: string;
}

const rowSelect = `
  SELECT id::text AS id, to_json(received_at)#>>'{}' AS "receivedAt", peer,
         batch_id::text AS "batchId", batch_index AS "batchIndex", control_id AS "controlId",
         message_type AS "messageType", event_type AS "eventType",
         event_type_rule AS "eventTypeRule", to_json(event_time)#>>'{}' AS "eventTime",
         sending_facility AS "sendingFacility", status::text AS status, ack_code AS "ackCode",
         error_code AS "errorCode", error_reason AS "errorReason",
         error_message AS "errorMessage", note, attempts,
         to_json(processed_at)#>>'{}' AS "processedAt",
         applied_event_id::text AS "appliedEventId", duplicate_of::text AS "duplicateOf",
         payload_hash AS "payloadHash"
    FROM hl7_message`;

/** One message with its raw bytes, or undefined. */
export async function loadHl7Message(db: Queryable, id: string) {
  const { rows } = await db.query<Hl7MessageRow & { raw: Buffer }>(
    `${rowSelect.replace('FROM hl7_message', ', raw FROM hl7_message')} WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export interface Hl7MessageFilter {
  statuses?: readonly Hl7MessageStatus[];
  eventType?: string;
  controlId?: string;
  errorReason?: string;
  /**
   * true: only messages MedAxis failed on itself (error code INTERNAL, "errored"); false: only
   * those refused for what they say or for the hospital's state. Unset: both.
   */
  internalError?: boolean;
  /** Only messages with an id below this one (paging backwards from the newest). */
  beforeId?: string;
  limit?: number;
}

/** Messages newest first, without raw bytes (which carry patient identity). */
export async function listHl7Messages(db: Queryable, filter: Hl7MessageFilter = {}) {
  const { rows } = await db.query<Hl7MessageRow>(
    `${rowSelect}
      WHERE ($1::hl7_message_status[] IS NULL OR status = ANY($1))
        AND ($2::text IS NULL OR event_type = $2)
        AND ($3::text IS NULL OR control_id = $3)
        AND ($4::text IS NULL OR error_reason = $4)
        AND ($5::bigint IS NULL OR id < $5)
        AND ($7::boolean IS NULL OR (error_code IS NOT DISTINCT FROM 'INTERNAL') = $7)
      ORDER BY hl7_message.id DESC LIMIT $6`,
    [
      filter.statuses?.length ? filter.statuses : null,
      filter.eventType ?? null,
      filter.controlId ?? null,
      filter.errorReason ?? null,
      filter.beforeId ?? null,
      filter.limit ?? 100,
      filter.internalError ?? null,
    ],
  );
  return rows;
}

/** Ids of messages in a status, oldest first; `receivedBefore` skips ones still in flight. */
export async function listHl7MessageIds(
  db: Queryable,
  status: Hl7MessageStatus,
  options: { receivedBefore?: Date; limit?: number } = {},
) {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM hl7_message
      WHERE status = $1::hl7_message_status AND ($2::timestamptz IS NULL OR received_at < $2)
      ORDER BY hl7_message.id LIMIT $3`,
    [status, options.receivedBefore ?? null, options.limit ?? 1000],
  );
  return rows.map((row) => row.id);
}

/**
 * The dead-letter view's tabs: messages refused for what they say or for the hospital's state
 * (rejected), those MedAxis failed on itself (errored, reprocessable once fixed), unsupported.
 */
export async function countHl7DeadLetters(db: Queryable) {
  const { rows } = await db.query<{
    rejected: number;
    errored: number;
    unsupported: number;
    all: number;
  }>(
    `SELECT count(*) FILTER (WHERE status = 'rejected' AND error_code IS DISTINCT FROM 'INTERNAL')
              ::int AS rejected,
            count(*) FILTER (WHERE status = 'rejected' AND error_code = 'INTERNAL')::int AS errored,
            count(*) FILTER (WHERE status = 'unsupported')::int AS unsupported,
            count(*)::int AS "all"
       FROM hl7_message`,
  );
  return rows[0]!;
}

/** Counts by status, for the CLI and the dead-letter view's header. */
export async function countHl7Messages(db: Queryable) {
  const { rows } = await db.query<{ status: Hl7MessageStatus; count: number }>(
    `SELECT status::text AS status, count(*)::int AS count FROM hl7_message GROUP BY status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.count])) as Partial<
    Record<Hl7MessageStatus, number>
  >;
}

// ---- patients, encounters and beds as the feed sees them ----------------------------------------

/**
 * The patient an identifier names: through an A40 alias if it was merged away, else its
 * identity row. Undefined when no patient has it.
 */
export async function findPatientByIdentifier(db: Queryable, authority: string, mrn: string) {
  return resolvePatientIdentifier(db, authority, clean(mrn));
}

export interface IdentityFields {
  familyName: string | null;
  givenName: string | null;
  birthDate: string | null;
  sex: string | null;
}

/** A08: the sender's current demographics replace what it sent before (empty fields stay). */
export async function updatePatientIdentity(
  db: Queryable,
  patientId: string,
  fields: IdentityFields,
) {
  await queryPrepared(db, updateIdentity, [
    patientId,
    clean(fields.familyName),
    clean(fields.givenName),
    fields.birthDate,
    clean(fields.sex),
  ]);
}

// The first of the patient's names (patient-records.ts) is the one family/given hold: it
// changes with them, so FHIR and the record never show a name the feed replaced.
const updateIdentity = prepared(
  'hl7_update_patient_identity',
  `UPDATE patient_identity
      SET family_name = coalesce($2, family_name), given_name = coalesce($3, given_name),
          birth_date = coalesce($4::date, birth_date), sex = coalesce($5, sex),
          names = CASE WHEN jsonb_typeof(names) <> 'array' OR jsonb_array_length(names) = 0
                         OR ($2::text IS NULL AND $3::text IS NULL) THEN names
                       ELSE jsonb_set(names, '{0}', (names->0) || jsonb_strip_nulls(
                         jsonb_build_object('family', $2::text,
                           'given', to_jsonb(string_to_array($3::text, ' '))))) END
    WHERE patient_id = $1`,
);

/**
 * A40: `prior` is merged into `survivor`. The prior identifier becomes an alias of the
 * survivor, aliases that named the prior patient follow, and its encounters (with their
 * stays) now belong to the survivor. The prior patient's identity row is kept as it was.
 */
export async function mergePatients(
  tx: Tx,
  merge: {
    survivorId: string;
    priorId: string | null;
    prior: { authority: string; mrn: string };
    messageId: string;
  },
) {
  await tx.query(
    `INSERT INTO hl7_patient_alias (authority, mrn, patient_id, prior_patient_id, message_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (authority, mrn) DO UPDATE
       SET patient_id = excluded.patient_id, prior_patient_id = excluded.prior_patient_id,
           message_id = excluded.message_id`,
    [
      merge.prior.authority,
      clean(merge.prior.mrn),
      merge.survivorId,
      merge.priorId,
      merge.messageId,
    ],
  );
  if (merge.priorId === null || merge.priorId === merge.survivorId) return 0;
  // The prior patient points at its survivor (and so do patients merged into it before), so
  // its id and every identifier it had still resolve to the survivor.
  // A survivor that an earlier merge had retired is active again.
  await tx.query(
    `UPDATE patient SET merged_into_id = CASE WHEN id = $2 THEN NULL ELSE $2::uuid END
      WHERE id = $1 OR merged_into_id = $1 OR id = $2`,
    [merge.priorId, merge.survivorId],
  );
  await tx.query(`UPDATE hl7_patient_alias SET patient_id = $2 WHERE patient_id = $1`, [
    merge.priorId,
    merge.survivorId,
  ]);
  const moved = await tx.query(`UPDATE encounter SET patient_id = $2 WHERE patient_id = $1`, [
    merge.priorId,
    merge.survivorId,
  ]);
  return moved.rowCount ?? 0;
}

export async function findEncounterBySource(
  db: Queryable,
  sourceSystem: string,
  sourceRef: string,
) {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM encounter WHERE source_system = $1 AND source_ref = $2`,
    [sourceSystem, clean(sourceRef)],
  );
  return rows[0]?.id;
}

export interface FeedEncounterState {
  id: string;
  status: 'planned' | 'in_progress' | 'finished' | 'cancelled';
  class: string;
  patientId: string;
  departmentId: number | null;
  expectedDischargeAt: Date | null;
  /** The bed of the current (open) stay, if any. */
  bedId: number | null;
  /** The latest start or end of a (not cancelled) stay: when the visit last changed beds. */
  lastBedChangeAt: Date | null;
  admittedAt: Date | null;
  dischargedAt: Date | null;
}

/**
 * What a feed's lookup of a visit also locks and reads for the bed command the message may
 * become (commands.ts visitWorldStatements), so that the command costs no load of its own:
 * the bed PV1-3 names (its code, or null) with the visit's own.
 */
export interface FeedWorldRequest {
  bedCode: string | null;
}

/**
 * The statements that lock a visit, by the sender's visit number, and read its state (the
 * second's rows), then, given `world`, what a bed command on it decides on. Lock first, then
 * read the stays in a statement of its own (one round trip for all): a statement reads what
 * had committed when it began, so stays read by the locking statement itself would miss what
 * the transaction it waited for wrote, such as a transfer of this visit on another connection.
 */
function encounterStateStatements(
  visit: { sourceSystem: string; sourceRef: string },
  world: FeedWorldRequest | undefined,
): BoundStatement[] {
  const key = { sourceSystem: visit.sourceSystem, sourceRef: clean(visit.sourceRef) };
  const params = [key.sourceSystem, key.sourceRef];
  return [
    bind(lockFeedEncounter, params),
    bind(readFeedEncounter, params),
    ...(world ? visitWorldStatements(key, world.bedCode && clean(world.bedCode)) : []),
  ];
}

/** The answers to encounterStateStatements: the visit's state, and its world if asked for. */
function readEncounterState(results: readonly { rows: unknown[] }[]) {
  const [, state, ...world] = results;
  const encounter = state?.rows[0] as FeedEncounterState | undefined;
  return {
    encounter,
    world: encounter && world.length > 0 ? readVisitWorld(state!.rows, world) : undefined,
  };
}

const lockFeedEncounter = prepared(
  'hl7_lock_encounter',
  `SELECT e.id FROM encounter e WHERE e.source_system = $1 AND e.source_ref = $2 FOR UPDATE`,
);

const readFeedEncounter = prepared(
  'hl7_read_encounter',
  `SELECT e.id, e.status::text AS status, e.class::text AS class,
          e.patient_id AS "patientId", e.department_id AS "departmentId",
          e.expected_discharge_at AS "expectedDischargeAt", e.admitted_at AS "admittedAt",
          e.discharged_at AS "dischargedAt",
          (SELECT s.bed_id FROM bed_stay s
            WHERE s.encounter_id = e.id AND NOT s.cancelled AND s.end_at IS NULL
            LIMIT 1) AS "bedId",
          (SELECT max(greatest(s.start_at, s.end_at)) FROM bed_stay s
            WHERE s.encounter_id = e.id AND NOT s.cancelled) AS "lastBedChangeAt"
     FROM encounter e WHERE e.source_system = $1 AND e.source_ref = $2`,
);

/**
 * ensureEncounter for a visit number, then the visit locked and its state read (as
 * findFeedContext does), with its world if asked for: one round trip. The visit is found by
 * its number, as the first statement may have found it created by another transaction rather
 * than created it.
 */
export async function ensureAndLockFeedEncounter(
  tx: Tx,
  encounter: EncounterInput & { sourceSystem: string; sourceRef: string },
  world?: FeedWorldRequest,
) {
  const [, ...state] = await queryStatements(tx, [
    ensureEncounterStatement(encounter),
    ...encounterStateStatements(encounter, world),
  ]);
  return readEncounterState(state);
}

/** Encounter fields a feed keeps current that no bed command governs (A06, A07, A08). */
export async function updateEncounterDetails(
  db: Queryable,
  encounterId: string,
  fields: {
    class?: string | null;
    departmentId?: number | null;
    expectedDischargeAt?: Date | null;
    /** The attending doctor (PV1-7), a practitioner id. */
    attendingId?: string | null;
  },
) {
  await db.query(
    `UPDATE encounter
        SET class = coalesce($2::encounter_class, class),
            department_id = coalesce($3, department_id),
            expected_discharge_at = coalesce($4, expected_discharge_at),
            attending_id = coalesce($5::uuid, attending_id)
      WHERE id = $1`,
    [
      encounterId,
      fields.class ?? null,
      fields.departmentId ?? null,
      fields.expectedDischargeAt ?? null,
      fields.attendingId ?? null,
    ],
  );
}

export async function findBedByCode(db: Queryable, code: string) {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM bed WHERE code = $1`, [
    clean(code),
  ]);
  return rows[0]?.id;
}

/**
 * What a visit message looks up first, in one round trip: the patient its identifier names
 * (as findPatientByIdentifier, A40 aliases first) and the department and bed of PV1-3,
 * undefined where unknown; and, given its visit number, the visit locked and its state,
 * undefined when no visit has that number yet. Taken before deciding which command a message
 * becomes. Given `world` too, what that command decides on (the visit's stays, its beds and
 * PV1-3's, locked), so the command need not load it again.
 */
export async function findFeedContext(
  tx: Tx,
  patient: { authority: string; mrn: string },
  location: { departmentCode: string; bedCode: string | null } | null,
  visit?: { sourceSystem: string; sourceRef: string },
  world?: FeedWorldRequest,
) {
  return readFeedContext(
    await queryStatements(tx, feedContextStatements(patient, location, visit, world)),
  );
}

/**
 * findFeedContext's statements, for a caller that sends them after statements of its own in
 * one round trip (the HL7 processor, after claiming the message); read the answers with
 * readFeedContext.
 */
export function feedContextStatements(
  patient: { authority: string; mrn: string },
  location: { departmentCode: string; bedCode: string | null } | null,
  visit?: { sourceSystem: string; sourceRef: string },
  world?: FeedWorldRequest,
): Statement[] {
  return [
    bind(findFeedPatientAndLocation, [
      patient.authority,
      clean(patient.mrn),
      location ? clean(location.departmentCode) : null,
      location?.bedCode ? clean(location.bedCode) : null,
    ]),
    // After the lookup, as before it was one: the visit is locked after the patient is read.
    ...(visit ? encounterStateStatements(visit, world) : []),
  ];
}

/** The patient as resolvePatientIdentifier finds it, with the location, in one statement. */
const findFeedPatientAndLocation = prepared(
  'hl7_find_patient_and_location',
  `SELECT ${patientByIdentifier} AS "patientId",
          (SELECT id FROM department WHERE code = $3) AS "departmentId",
          (SELECT id FROM bed WHERE code = $4) AS "bedId"`,
);

/** The answers to feedContextStatements (as findFeedContext returns them). */
export function readFeedContext(results: readonly { rows: unknown[] }[]) {
  const [context, ...visit] = results;
  const row = context?.rows[0] as
    { patientId: string | null; departmentId: number | null; bedId: number | null } | undefined;
  return {
    patientId: row?.patientId ?? undefined,
    departmentId: row?.departmentId ?? undefined,
    bedId: row?.bedId ?? undefined,
    ...readEncounterState(visit),
  };
}

export async function findDepartmentByCode(db: Queryable, code: string) {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM department WHERE code = $1`, [
    clean(code),
  ]);
  return rows[0]?.id;
}

/** PostgreSQL text cannot hold NUL; a mutated or binary message must still be recordable. */
function clean<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
}
