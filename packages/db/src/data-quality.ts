import type { Queryable } from './pool.ts';

/*
 * The ADT data-quality checks (docs/data_quality.md): what the feeds and imports left that
 * someone should look at. Each check has a count and a drill-down list. Everything here is
 * operational (message outcomes, events, beds, locations): no patient identity and no patient
 * or encounter ids, so any role allowed the page may see all of it.
 */

export const qualityChecks = [
  'rejected_messages',
  'late_events',
  'out_of_order_events',
  'missing_admit_decision',
  'beds_held_after_discharge',
  'unconfigured_locations',
  'rejected_import_rows',
] as const;
export type QualityCheck = (typeof qualityChecks)[number];

/**
 * An HL7 event refused because it is dated before its visit's last bed change: it arrived
 * after events that happened later (the late-event rule of packages/interop hl7/apply.ts).
 */
export const outOfOrderReason = 'before_current_state';

/** A message received this long after its event time arrived late, applied or not. */
export const lateAfterMinutes = 60;

export interface MessageItem {
  check: 'rejected_messages' | 'late_events' | 'out_of_order_events';
  messageId: string;
  receivedAt: string;
  status: string;
  /** How long after its event time the message arrived. */
  delayMinutes: number | null;
  eventType: string | null;
  eventTime: string | null;
  controlId: string | null;
  errorCode: string | null;
  errorReason: string | null;
  errorMessage: string | null;
}

export interface MissingAdmitDecisionItem {
  check: 'missing_admit_decision';
  encounterClass: string;
  status: string;
  admittedAt: string;
  dischargedAt: string | null;
  departmentCode: string | null;
  /** The bed of the visit's current stay, if it is in one. */
  bedCode: string | null;
  sourceSystem: string | null;
}

export interface BedHeldItem {
  check: 'beds_held_after_discharge';
  bedCode: string;
  departmentCode: string;
  bedStatus: string;
  statusSince: string;
  encounterStatus: string;
  dischargedAt: string | null;
  /** What still holds the bed: its status names the visit, or a stay of it is still open. */
  heldBy: 'bed_status' | 'open_stay' | 'both';
}

export interface UnconfiguredLocationItem {
  check: 'unconfigured_locations';
  kind: 'department' | 'bed';
  code: string;
  name: string | null;
  departmentCode: string;
  roomCode: string | null;
}

/**
 * A row an import could not apply, still open (not reprocessed). Its reason code, not its text
 * or row: those may name the patient, and this page shows no identity.
 */
export interface ImportRejectionItem {
  check: 'rejected_import_rows';
  rejectionId: string;
  kind: string;
  runId: number;
  /** The file's name, without the directory it was read from. */
  file: string;
  rowNumber: number;
  code: string;
  attempt: number;
  keptAt: string;
}

export type QualityItem =
  | MessageItem
  | MissingAdmitDecisionItem
  | BedHeldItem
  | UnconfiguredLocationItem
  | ImportRejectionItem;

const iso = (column: string) => `to_json(${column})#>>'{}'`;

// Each check is one FROM/WHERE, shared by its count and its list, so the two never disagree.
/** Which HL7 messages each message check finds, given `p` (reason, minutes): see `withParams`. */
const messageChecks = {
  rejected_messages: `status = 'rejected'`,
  late_events: `status NOT IN ('batch', 'duplicate') AND event_time IS NOT NULL
                AND received_at - event_time > make_interval(mins => p.minutes)`,
  out_of_order_events: `status = 'rejected' AND error_reason = p.reason`,
} as const;

/** The one row `p` the message checks read their thresholds from ($1 reason, $2 minutes). */
const withParams = `WITH p AS (SELECT $1::text AS reason, $2::int AS minutes)`;

const missingAdmitDecision = `
  e.class = 'inpatient' AND e.status IN ('in_progress', 'finished')
  AND e.admitted_at IS NOT NULL AND e.admit_decision_at IS NULL`;

/** Beds whose status still names a finished visit, or with a finished visit's stay open. */
const bedsHeld = `
  (SELECT x.bed_id, x.encounter_id, bool_or(x.by_status) AS by_status,
          bool_or(x.by_stay) AS by_stay
     FROM (SELECT id AS bed_id, encounter_id, true AS by_status, false AS by_stay
             FROM bed WHERE encounter_id IS NOT NULL
           UNION ALL
           SELECT bed_id, encounter_id, false, true
             FROM bed_stay WHERE end_at IS NULL AND NOT cancelled) x
     JOIN encounter e ON e.id = x.encounter_id
    WHERE e.status IN ('finished', 'cancelled') OR e.discharged_at IS NOT NULL
    GROUP BY x.bed_id, x.encounter_id) h`;

/** How many items each check finds now. */
export async function countQualityIssues(db: Queryable): Promise<Record<QualityCheck, number>> {
  const { rows } = await db.query<Record<QualityCheck, number>>(
    `${withParams}
     SELECT
       (SELECT count(*) FROM hl7_message, p
         WHERE ${messageChecks.rejected_messages})::int AS rejected_messages,
       (SELECT count(*) FROM hl7_message, p
         WHERE ${messageChecks.late_events})::int AS late_events,
       (SELECT count(*) FROM hl7_message, p
         WHERE ${messageChecks.out_of_order_events})::int AS out_of_order_events,
       (SELECT count(*) FROM encounter e
         WHERE ${missingAdmitDecision})::int AS missing_admit_decision,
       (SELECT count(DISTINCT bed_id) FROM ${bedsHeld})::int AS beds_held_after_discharge,
       ((SELECT count(*) FROM department WHERE needs_review)
        + (SELECT count(*) FROM bed WHERE needs_review))::int AS unconfigured_locations,
       (SELECT count(*) FROM import_rejection
         WHERE reprocessed_at IS NULL)::int AS rejected_import_rows`,
    [outOfOrderReason, lateAfterMinutes],
  );
  return rows[0]!;
}

export interface QualityPage {
  limit: number;
  offset: number;
}

/** One check's items, newest or most urgent first, a page at a time. */
export async function listQualityIssues(
  db: Queryable,
  check: QualityCheck,
  page: QualityPage,
): Promise<QualityItem[]> {
  const { limit, offset } = page;
  switch (check) {
    case 'rejected_messages':
    case 'late_events':
    case 'out_of_order_events': {
      const { rows } = await db.query<MessageItem>(
        `${withParams}
         SELECT $3::text AS "check", id::text AS "messageId",
                ${iso('received_at')} AS "receivedAt", status::text AS status,
                floor(extract(epoch FROM received_at - event_time) / 60)::int AS "delayMinutes",
                event_type AS "eventType", ${iso('event_time')} AS "eventTime",
                control_id AS "controlId", error_code AS "errorCode",
                error_reason AS "errorReason", error_message AS "errorMessage"
           FROM hl7_message, p
          WHERE ${messageChecks[check]}
          ORDER BY hl7_message.id DESC LIMIT $4 OFFSET $5`,
        [outOfOrderReason, lateAfterMinutes, check, limit, offset],
      );
      return rows;
    }
    case 'missing_admit_decision': {
      const { rows } = await db.query<MissingAdmitDecisionItem>(
        `SELECT 'missing_admit_decision' AS "check", e.class::text AS "encounterClass",
                e.status::text AS status, ${iso('e.admitted_at')} AS "admittedAt",
                ${iso('e.discharged_at')} AS "dischargedAt", d.code AS "departmentCode",
                (SELECT b.code FROM bed_stay s JOIN bed b ON b.id = s.bed_id
                  WHERE s.encounter_id = e.id AND s.end_at IS NULL AND NOT s.cancelled
                  LIMIT 1) AS "bedCode",
                e.source_system AS "sourceSystem"
           FROM encounter e LEFT JOIN department d ON d.id = e.department_id
          WHERE ${missingAdmitDecision}
          ORDER BY e.admitted_at DESC, e.id LIMIT $1 OFFSET $2`,
        [limit, offset],
      );
      return rows;
    }
    case 'beds_held_after_discharge': {
      const { rows } = await db.query<BedHeldItem>(
        `SELECT 'beds_held_after_discharge' AS "check", b.code AS "bedCode",
                d.code AS "departmentCode", b.status::text AS "bedStatus",
                ${iso('b.status_since')} AS "statusSince", e.status::text AS "encounterStatus",
                ${iso('e.discharged_at')} AS "dischargedAt",
                CASE WHEN h.by_status AND h.by_stay THEN 'both'
                     WHEN h.by_status THEN 'bed_status' ELSE 'open_stay' END AS "heldBy"
           FROM ${bedsHeld}
           JOIN bed b ON b.id = h.bed_id JOIN room r ON r.id = b.room_id
           JOIN department d ON d.id = r.department_id
           JOIN encounter e ON e.id = h.encounter_id
          ORDER BY d.sort_order, b.code LIMIT $1 OFFSET $2`,
        [limit, offset],
      );
      return rows;
    }
    case 'unconfigured_locations': {
      const { rows } = await db.query<UnconfiguredLocationItem>(
        `SELECT 'unconfigured_locations' AS "check", kind, code, name, "departmentCode",
                "roomCode"
           FROM (SELECT 'department' AS kind, d.code, d.name, d.code AS "departmentCode",
                        NULL::text AS "roomCode", d.sort_order, 0 AS level
                   FROM department d WHERE d.needs_review
                 UNION ALL
                 SELECT 'bed', b.code, NULL, d.code, r.code, d.sort_order, 1
                   FROM bed b JOIN room r ON r.id = b.room_id
                   JOIN department d ON d.id = r.department_id
                  WHERE b.needs_review) l
          ORDER BY sort_order, "departmentCode", level, code LIMIT $1 OFFSET $2`,
        [limit, offset],
      );
      return rows;
    }
    case 'rejected_import_rows': {
      const { rows } = await db.query<ImportRejectionItem>(
        `SELECT 'rejected_import_rows' AS "check", r.id::text AS "rejectionId", u.kind,
                u.id AS "runId", regexp_replace(r.file, '^.*/', '') AS file,
                r.row_number AS "rowNumber", r.code, r.attempt, ${iso('r.kept_at')} AS "keptAt"
           FROM import_rejection r JOIN import_run u ON u.id = r.run_id
          WHERE r.reprocessed_at IS NULL
          ORDER BY r.id DESC LIMIT $1 OFFSET $2`,
        [limit, offset],
      );
      return rows;
    }
  }
}
