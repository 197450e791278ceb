import { Params, type Db, type Queryable } from '@medaxis/db';

import { loadSealChain, type SealEntry } from './seal-chain.ts';
import { verifyAuditLog, type VerifyReport } from './verify.ts';

/*
 * The compliance officer's questions to the audit log (issue "Security, consent and audit",
 * item 10). Every answer reads live rows and compacted summaries alike: a run of reads that
 * compaction folded into one audit_summary row is one fact here, with its first and last
 * time and its count, so no (who, patient, purpose, first, last, count) fact is lost to it.
 */

/** A time range and a page; `from` inclusive, `to` exclusive. */
export interface ReportWindow {
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  offset: number;
}

/** One fact of the log: a single audited call, or a compacted run of identical reads. */
export interface AccessFact {
  /** `event`: one audit row; `summary`: `count` reads compacted into one row. */
  kind: 'event' | 'summary';
  /** The audit row id (a summary: its first replaced row's id). */
  id: string;
  firstAt: string;
  lastAt: string;
  count: number;
  actorKind: string;
  actorId: string;
  /** The user's username where the actor is a user still on record. */
  actorName: string | null;
  roles: string[];
  deviceId: string | null;
  purpose: string;
  source: string;
  operation: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  patientIds: string[];
  outcome: string;
  reason: string | null;
  /** A single call's request id (a summary keeps them per read; not listed here). */
  requestId: string | null;
  /** Client addresses, distinct, space separated. */
  clientAddress: string | null;
}

export interface Page<T> {
  total: number;
  items: T[];
}

/** Which facts a report selects: SQL conditions over the columns audit rows and summaries share. */
type FactCondition = (params: Params) => string;

const sharedColumns = `actor_kind AS "actorKind", actor_id AS "actorId", roles,
  device_id AS "deviceId", purpose, source, operation, action, resource_type AS "resourceType",
  resource_id AS "resourceId", patient_ids::text[] AS "patientIds", outcome, reason`;

function windowSql(window: ReportWindow, params: Params, first: string, last: string): string {
  const parts: string[] = [];
  if (window.from) parts.push(`${last} >= ${params.add(window.from)}`);
  if (window.to) parts.push(`${first} < ${params.add(window.to)}`);
  return parts.length === 0 ? 'true' : parts.join(' AND ');
}

/** Live rows and summaries matching `condition`, newest first, one page. */
async function queryFacts(
  db: Queryable,
  condition: FactCondition,
  window: ReportWindow,
): Promise<Page<AccessFact>> {
  const params = new Params();
  const where = condition(params);
  const eventWindow = windowSql(window, params, 'at', 'at');
  const summaryWindow = windowSql(window, params, 'first_at', 'last_at');
  const { rows } = await db.query<AccessFact & { total: number }>(
    `WITH facts AS (
       SELECT 'event' AS kind, id, at AS "firstAt", at AS "lastAt", 1 AS count, ${sharedColumns},
              request_id AS "requestId", client_address AS "clientAddress"
         FROM audit_event WHERE ${where} AND ${eventWindow}
       UNION ALL
       SELECT 'summary', first_id, first_at, last_at, count, ${sharedColumns}, NULL,
              nullif(array_to_string(ARRAY(SELECT DISTINCT a FROM unnest(client_addresses) a
                                            WHERE a IS NOT NULL ORDER BY a), ' '), '')
         FROM audit_summary WHERE ${where} AND ${summaryWindow})
     SELECT f.kind, f.id::text AS id, to_json(f."firstAt")#>>'{}' AS "firstAt",
            to_json(f."lastAt")#>>'{}' AS "lastAt", f.count, f."actorKind", f."actorId",
            u.username AS "actorName", f.roles, f."deviceId", f.purpose, f.source, f.operation,
            f.action, f."resourceType", f."resourceId", f."patientIds", f.outcome, f.reason,
            f."requestId", f."clientAddress", count(*) OVER ()::int AS total
       FROM facts f
       LEFT JOIN app_user u ON f."actorKind" = 'user' AND u.id::text = f."actorId"
      ORDER BY f."lastAt" DESC, f.id DESC
      LIMIT ${params.add(window.limit)} OFFSET ${params.add(window.offset)}`,
    params.values,
  );
  return pageOf(rows, normalizeFact);
}

function pageOf<T extends { total: number }, U>(rows: T[], map: (row: T) => U): Page<U> {
  return { total: rows[0]?.total ?? 0, items: rows.map(map) };
}

function normalizeFact({ total: _total, ...row }: AccessFact & { total: number }): AccessFact {
  return { ...row, firstAt: iso(row.firstAt), lastAt: iso(row.lastAt) };
}

/** PostgreSQL's JSON form of a timestamptz has its own offset; reports speak ISO with Z. */
function iso(value: string): string {
  return new Date(value).toISOString();
}

/** Who accessed a patient's data (read, search, export, write), why, and with what outcome. */
export function patientAccessReport(
  db: Queryable,
  patientId: string,
  window: ReportWindow,
): Promise<Page<AccessFact>> {
  return queryFacts(db, (params) => `patient_ids @> ARRAY[${params.add(patientId)}::uuid]`, window);
}

/**
 * Everything one actor did: `actor` is a user's username or id, a device token id, or
 * `system`. Sign-ins, refusals and administrative changes are included, and refused sign-ins
 * that named the account.
 */
export function actorActivityReport(
  db: Queryable,
  actor: string,
  window: ReportWindow,
): Promise<Page<AccessFact>> {
  return queryFacts(
    db,
    (params) => {
      const given = params.add(actor);
      // Sign-in attempts nobody was recognised in name the account they tried.
      return `(actor_id IN (${given}, (SELECT id::text FROM app_user WHERE username = ${given}))
               OR (action = 'auth' AND actor_kind = 'anonymous' AND resource_id = ${given}))`;
    },
    window,
  );
}

/**
 * Refused access to patient data: consent restrictions (`consent_restricted`), a purpose of
 * use or permission the actor's roles do not allow, a department out of scope. Sign-in
 * refusals are in the actor's activity, not here.
 */
export function denialReport(db: Queryable, window: ReportWindow): Promise<Page<AccessFact>> {
  return queryFacts(db, () => `outcome = 'denied' AND action <> 'auth'`, window);
}

/** An access to a patient who lay in none of the user's assigned departments at the time. */
export interface OutOfDepartmentFact extends AccessFact {
  patientId: string;
  /** Where the patient was at the time of the access (by bed stay, else encounter). */
  patientDepartment: string;
  /** The user's assigned departments (as they are now). */
  userDepartments: string[];
}

/**
 * Allowed accesses by users with assigned departments to patients who were, at the instant
 * of the access (a summary: its first read), in none of them. A user whose roles reach every
 * department has no assigned departments and is not listed; the departments compared are the
 * user's current assignment.
 */
export async function outOfDepartmentReport(
  db: Queryable,
  window: ReportWindow,
): Promise<Page<OutOfDepartmentFact>> {
  const params = new Params();
  const eventWindow = windowSql(window, params, 'f.at', 'f.at');
  const summaryWindow = windowSql(window, params, 'f.first_at', 'f.last_at');
  // Where a patient was at an instant: the bed stay covering it, else an encounter open then.
  const placeAt = (at: string) => `LEFT JOIN LATERAL (
         SELECT coalesce(
           (SELECT d.code FROM encounter en
              JOIN bed_stay bs ON bs.encounter_id = en.id AND NOT bs.cancelled
              JOIN bed b ON b.id = bs.bed_id
              JOIN room r ON r.id = b.room_id
              JOIN department d ON d.id = r.department_id
             WHERE en.patient_id = pid AND bs.start_at <= ${at}
               AND (bs.end_at IS NULL OR bs.end_at > ${at})
             ORDER BY bs.start_at DESC LIMIT 1),
           (SELECT d.code FROM encounter en JOIN department d ON d.id = en.department_id
             WHERE en.patient_id = pid AND en.created_at <= ${at}
               AND (en.discharged_at IS NULL OR en.discharged_at > ${at})
             ORDER BY en.created_at DESC LIMIT 1)) AS code) place ON true`;
  const { rows } = await db.query<OutOfDepartmentFact & { total: number }>(
    `WITH facts AS (
       SELECT 'event' AS kind, f.id, f.at AS "firstAt", f.at AS "lastAt", 1 AS count,
              f.actor_kind AS "actorKind", f.actor_id AS "actorId", f.roles,
              f.device_id AS "deviceId", f.purpose, f.source, f.operation, f.action,
              f.resource_type AS "resourceType", f.resource_id AS "resourceId",
              f.patient_ids::text[] AS "patientIds", f.outcome, f.reason,
              f.request_id AS "requestId", f.client_address AS "clientAddress",
              pid::text AS "patientId", place.code AS "patientDepartment",
              u.username AS "actorName", u.departments AS "userDepartments"
         FROM audit_event f
         JOIN app_user u ON u.id::text = f.actor_id AND cardinality(u.departments) > 0
         CROSS JOIN LATERAL unnest(f.patient_ids) pid
         ${placeAt('f.at')}
        WHERE f.actor_kind = 'user' AND f.outcome = 'allowed' AND f.action <> 'auth'
          AND place.code IS NOT NULL AND NOT (place.code = ANY(u.departments))
          AND ${eventWindow}
       UNION ALL
       SELECT 'summary', f.first_id, f.first_at, f.last_at, f.count, f.actor_kind, f.actor_id,
              f.roles, f.device_id, f.purpose, f.source, f.operation, f.action,
              f.resource_type, f.resource_id, f.patient_ids::text[], f.outcome, f.reason, NULL,
              NULL, pid::text, place.code, u.username, u.departments
         FROM audit_summary f
         JOIN app_user u ON u.id::text = f.actor_id AND cardinality(u.departments) > 0
         CROSS JOIN LATERAL unnest(f.patient_ids) pid
         ${placeAt('f.first_at')}
        WHERE f.actor_kind = 'user' AND f.outcome = 'allowed'
          AND place.code IS NOT NULL AND NOT (place.code = ANY(u.departments))
          AND ${summaryWindow})
     SELECT f.kind, f.id::text AS id, to_json(f."firstAt")#>>'{}' AS "firstAt",
            to_json(f."lastAt")#>>'{}' AS "lastAt", f.count, f."actorKind", f."actorId",
            f."actorName", f.roles, f."deviceId", f.purpose, f.source, f.operation, f.action,
            f."resourceType", f."resourceId", f."patientIds", f.outcome, f.reason,
            f."requestId", f."clientAddress", f."patientId", f."patientDepartment",
            f."userDepartments", count(*) OVER ()::int AS total
       FROM facts f
      ORDER BY f."lastAt" DESC, f.id DESC, f."patientId"
      LIMIT ${params.add(window.limit)} OFFSET ${params.add(window.offset)}`,
    params.values,
  );
  return pageOf(rows, (row) => ({
    ...normalizeFact(row),
    patientId: row.patientId,
    patientDepartment: row.patientDepartment,
    userDepartments: row.userDepartments,
  }));
}

/** A break-glass override as the review shows it, with what was read under it. */
export interface BreakGlassReviewItem {
  id: string;
  userId: string;
  userName: string | null;
  patientId: string;
  reason: string;
  startedAt: string;
  expiresAt: string;
  reviewedBy: string | null;
  reviewedByName: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
  /** Audited calls flagged `break_glass` by this user for this patient while it was open. */
  flaggedAccesses: number;
}

export type ReviewStatus = 'pending' | 'reviewed' | 'all';

/** Break-glass overrides started in the window: pending ones oldest first, else newest first. */
export async function breakGlassReport(
  db: Queryable,
  options: ReportWindow & { status: ReviewStatus },
): Promise<Page<BreakGlassReviewItem>> {
  const params = new Params();
  const status =
    options.status === 'pending'
      ? 'g.reviewed_at IS NULL'
      : options.status === 'reviewed'
        ? 'g.reviewed_at IS NOT NULL'
        : 'true';
  const window = windowSql(options, params, 'g.started_at', 'g.started_at');
  const order = options.status === 'pending' ? 'g.started_at, g.id' : 'g.started_at DESC, g.id';
  // Flagged calls: live rows and compacted runs of the override's user, patient and period.
  const flagged = (table: 'audit_event' | 'audit_summary', first: string, count: string) => `
    (SELECT coalesce(sum(${count}), 0) FROM ${table} a
      WHERE a.actor_id = g.user_id AND a.reason = 'break_glass'
        AND a.patient_ids @> ARRAY[g.patient_id]
        AND a.${first} >= g.started_at AND a.${first} < g.expires_at)`;
  const flaggedRows = flagged('audit_event', 'at', '1');
  const flaggedRuns = flagged('audit_summary', 'first_at', 'a.count');
  const { rows } = await db.query<BreakGlassReviewItem & { total: number }>(
    `SELECT g.id::text AS id, g.user_id AS "userId", u.username AS "userName",
            g.patient_id::text AS "patientId", g.reason,
            to_json(g.started_at)#>>'{}' AS "startedAt",
            to_json(g.expires_at)#>>'{}' AS "expiresAt", g.reviewed_by AS "reviewedBy",
            r.username AS "reviewedByName", to_json(g.reviewed_at)#>>'{}' AS "reviewedAt",
            g.review_note AS "reviewNote",
            (${flaggedRows} + ${flaggedRuns})::int AS "flaggedAccesses",
            count(*) OVER ()::int AS total
       FROM break_glass g
       LEFT JOIN app_user u ON u.id::text = g.user_id
       LEFT JOIN app_user r ON r.id::text = g.reviewed_by
      WHERE ${status} AND ${window}
      ORDER BY ${order}
      LIMIT ${params.add(options.limit)} OFFSET ${params.add(options.offset)}`,
    params.values,
  );
  return pageOf(rows, ({ total: _total, ...row }) => ({
    ...row,
    startedAt: iso(row.startedAt),
    expiresAt: iso(row.expiresAt),
    reviewedAt: row.reviewedAt === null ? null : iso(row.reviewedAt),
  }));
}

/** The state of the chain: verify's verdict now, and the seal chain, newest entries first. */
export interface ChainStatus {
  verify: VerifyReport;
  checkedAt: string;
  seals: Page<SealView>;
}

export interface SealView {
  seq: string;
  kind: string;
  firstId: string;
  lastId: string;
  rowCount: string;
  firstAt: string | null;
  lastAt: string | null;
  root: string | null;
  detail: string | null;
  createdAt: string;
  hash: string;
}

function sealView(entry: SealEntry): SealView {
  return {
    seq: entry.seq,
    kind: entry.kind,
    firstId: entry.firstId,
    lastId: entry.lastId,
    rowCount: entry.rowCount,
    firstAt: entry.firstAt,
    lastAt: entry.lastAt,
    root: entry.root?.toString('hex') ?? null,
    detail: entry.detail,
    createdAt: entry.createdAt,
    hash: entry.hash.toString('hex'),
  };
}

/** Runs verify over the whole log (as `medaxis audit verify` does) and lists the seals. */
export async function chainStatusReport(
  db: Db,
  options: { limit: number; offset: number; now: Date },
): Promise<ChainStatus> {
  const verify = await verifyAuditLog(db);
  const seals = (await loadSealChain(db)).reverse();
  return {
    verify,
    checkedAt: options.now.toISOString(),
    seals: {
      total: seals.length,
      items: seals.slice(options.offset, options.offset + options.limit).map(sealView),
    },
  };
}
