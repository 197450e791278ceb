import { withTransaction, type Db, type Queryable } from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';

import { applyFhirResource } from './fhir/import-fhir.ts';
import type { ImportAuditSink } from './import-run.ts';
import { applyLocationRow } from './locations/import-locations.ts';
import { applySyntheaRow } from './synthea/import-synthea.ts';

/*
 * The rows imports kept in import_rejection, and their reprocessing (docs/imports.md,
 * "Rejected rows"): a kept row is applied again through its importer's own logic, as stored
 * or as edited by the user (the stored row is never changed). Applied, the rejection is
 * closed with outcome `applied`; rejected again, it is closed with outcome `rejected` and a
 * new rejection (attempt + 1, reprocess_of naming it) holds the attempted row and its new
 * reason, so the list of open rejections always says what is wrong now.
 */

export const importKinds = ['fhir', 'synthea', 'mimic', 'locations'] as const;
export type ImportKind = (typeof importKinds)[number];

/**
 * Kinds whose rows apply one at a time. A MIMIC transfers row does not: its stay is measured
 * against the other rows of its admission (a gap or an overlap is only one between
 * neighbours), so it is reprocessed by importing the fixed files again, which marks the rows
 * it then applies reprocessed (matched by transfer_id).
 */
export const reprocessableKinds: readonly ImportKind[] = ['fhir', 'synthea', 'locations'];

export function isImportKind(value: string): value is ImportKind {
  return (importKinds as readonly string[]).includes(value);
}

/** A kept rejection as lists show it: where and why, not the row (it may name a patient). */
export interface ImportRejectionSummary {
  id: string;
  runId: number;
  kind: string;
  file: string;
  /** Line of the CSV or NDJSON file (the header is line 1 in CSV), or entry of a Bundle. */
  rowNumber: number;
  code: string;
  reason: string;
  /** 1 for the import's own rejection, n + 1 after n reprocessings that were rejected. */
  attempt: number;
  /** The rejection whose reprocessing was rejected again with this one's reason. */
  reprocessOf: string | null;
  keptAt: string;
  reprocessable: boolean;
}

export interface ImportRejectionDetail extends ImportRejectionSummary {
  row: unknown;
  reprocessedAt: string | null;
  outcome: 'applied' | 'rejected' | null;
  reprocessedBy: string | null;
  /** The edited row that was applied, when the user gave one. */
  appliedRow: unknown;
  /** The rejection a reprocessing rejected again was kept as. */
  retryId: string | null;
}

export interface ImportRejectionFilter {
  kind?: ImportKind | undefined;
  runId?: number | undefined;
  /** Paging: rejections with a smaller id (lists run newest first). */
  beforeId?: string | undefined;
  limit?: number | undefined;
}

const summaryColumns = `r.id::text AS id, r.run_id AS "runId", u.kind, r.file,
  r.row_number AS "rowNumber", r.code, r.reason, r.attempt, r.reprocess_of::text AS "reprocessOf",
  r.kept_at AS "keptAt"`;

interface SummaryRow extends Omit<ImportRejectionSummary, 'keptAt' | 'reprocessable'> {
  keptAt: Date;
}

function summaryOf({ keptAt, ...row }: SummaryRow): ImportRejectionSummary {
  return {
    ...row,
    keptAt: keptAt.toISOString(),
    reprocessable: (reprocessableKinds as readonly string[]).includes(row.kind),
  };
}

/** Open rejections (not reprocessed), newest first. */
export async function listOpenImportRejections(
  db: Queryable,
  filter: ImportRejectionFilter = {},
): Promise<ImportRejectionSummary[]> {
  const { rows } = await db.query<SummaryRow>(
    `SELECT ${summaryColumns}
       FROM import_rejection r JOIN import_run u ON u.id = r.run_id
      WHERE r.reprocessed_at IS NULL
        AND ($1::text IS NULL OR u.kind = $1)
        AND ($2::int IS NULL OR r.run_id = $2)
        AND ($3::bigint IS NULL OR r.id < $3)
      ORDER BY r.id DESC
      LIMIT $4`,
    [filter.kind ?? null, filter.runId ?? null, filter.beforeId ?? null, filter.limit ?? 100],
  );
  return rows.map(summaryOf);
}

/** Open rejections by import kind, every kind present (0 where none). */
export async function countOpenImportRejections(
  db: Queryable,
): Promise<Record<ImportKind, number>> {
  const { rows } = await db.query<{ kind: string; n: number }>(
    `SELECT u.kind, count(*)::int AS n
       FROM import_rejection r JOIN import_run u ON u.id = r.run_id
      WHERE r.reprocessed_at IS NULL GROUP BY u.kind`,
  );
  const counts = Object.fromEntries(importKinds.map((kind) => [kind, 0])) as Record<
    ImportKind,
    number
  >;
  for (const { kind, n } of rows) if (isImportKind(kind)) counts[kind] = n;
  return counts;
}

/** One rejection with its row, open or not; undefined when there is none of that id. */
export async function loadImportRejection(
  db: Queryable,
  id: string,
): Promise<ImportRejectionDetail | undefined> {
  const { rows } = await db.query<
    SummaryRow & {
      row: unknown;
      reprocessedAt: Date | null;
      outcome: 'applied' | 'rejected' | null;
      reprocessedBy: string | null;
      appliedRow: unknown;
      retryId: string | null;
    }
  >(
    `SELECT ${summaryColumns}, r.row, r.reprocessed_at AS "reprocessedAt", r.outcome,
            r.reprocessed_by AS "reprocessedBy", r.applied_row AS "appliedRow",
            (SELECT n.id::text FROM import_rejection n WHERE n.reprocess_of = r.id) AS "retryId"
       FROM import_rejection r JOIN import_run u ON u.id = r.run_id
      WHERE r.id = $1`,
    [id],
  );
  const found = rows[0];
  if (!found) return undefined;
  const { row, reprocessedAt, outcome, reprocessedBy, appliedRow, retryId, ...summary } = found;
  return {
    ...summaryOf(summary),
    row,
    reprocessedAt: reprocessedAt?.toISOString() ?? null,
    outcome,
    reprocessedBy,
    appliedRow,
    retryId,
  };
}

export interface ReprocessOptions {
  /** Who reprocesses: a user id, or `system` for the CLI. */
  by: string;
  /** An edited row to apply instead of the stored one (which is kept as it was). */
  row?: unknown;
  audit?: ImportAuditSink | undefined;
  now?: () => Date;
}

export interface ReprocessOutcome {
  id: string;
  kind: string;
  file: string;
  rowNumber: number;
  status: 'applied' | 'rejected';
  /** The row applied was the user's edit, not the stored one. */
  edited: boolean;
  /** Why it was rejected again (null when applied). */
  code: string | null;
  reason: string | null;
  /** The new open rejection that holds the row rejected again. */
  retryId: string | null;
}

/**
 * Applies a kept rejection's row (or the edited `row`) again through its importer. Refused
 * with a MedaxisError, recording nothing, when the rejection does not exist (NOT_FOUND
 * unknown_rejection), is already reprocessed (CONFLICT already_reprocessed), is a MIMIC row
 * or a Bundle's DELETE entry (CONFLICT not_reprocessable), holds no row that can be applied
 * as stored (VALIDATION no_row: a file refused whole, unreadable JSON) or the edit is not a
 * row of its kind (VALIDATION bad_row). Otherwise the outcome is recorded either way.
 */
export async function reprocessImportRejection(
  db: Db,
  id: string,
  options: ReprocessOptions,
): Promise<ReprocessOutcome> {
  const rejection = await loadImportRejection(db, id);
  if (!rejection) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_rejection', `No rejection ${id}.`);
  }
  if (rejection.reprocessedAt !== null) throw alreadyReprocessed(rejection);
  if (!rejection.reprocessable) {
    throw new MedaxisError(
      ErrorCode.conflict,
      'not_reprocessable',
      rejection.kind === 'mimic'
        ? `Rejection ${id} is a MIMIC row: its stay is measured against the other rows of its ` +
            'admission, so it cannot be applied alone. Fix the files and run ' +
            '`medaxis import mimic` again: the rows it then applies are marked reprocessed.'
        : `Rejection ${id} is from a ${rejection.kind} import, which MedAxis cannot reprocess.`,
    );
  }
  const edited = options.row !== undefined;
  const row = edited ? options.row : rejection.row;
  if (!edited && rejection.kind === 'fhir' && rejection.code === 'unsupported_request') {
    throw new MedaxisError(
      ErrorCode.conflict,
      'not_reprocessable',
      `Rejection ${id} is a Bundle's DELETE or PATCH entry, which MedAxis does not apply: ` +
        'there is nothing to reprocess (an edited row, a resource, can be applied instead).',
    );
  }
  if (!edited && !isRowShaped(rejection.kind, row)) {
    throw new MedaxisError(
      ErrorCode.validation,
      'no_row',
      `Rejection ${id} holds no row that can be applied as it is (${rejection.code}: ` +
        `${rejection.reason}): give an edited row, or import the fixed file again.`,
    );
  }
  if (!isRowShaped(rejection.kind, row)) {
    throw new MedaxisError(
      ErrorCode.validation,
      'bad_row',
      rejection.kind === 'fhir'
        ? 'A FHIR row is a JSON resource (an object).'
        : `A ${rejection.kind} row is a JSON object of column names to text values.`,
    );
  }

  let refusal: MedaxisError | undefined;
  try {
    await applyRow(db, rejection, row, options);
    await options.audit?.flush();
  } catch (error) {
    if (!isMedaxisError(error)) throw error;
    refusal = error;
  }

  const outcome: ReprocessOutcome = {
    id,
    kind: rejection.kind,
    file: rejection.file,
    rowNumber: rejection.rowNumber,
    status: refusal ? 'rejected' : 'applied',
    edited,
    code: refusal?.reason ?? null,
    reason: refusal?.message ?? null,
    retryId: null,
  };
  await withTransaction(db, async (tx) => {
    const closed = await tx.query(
      `UPDATE import_rejection
          SET reprocessed_at = $2, outcome = $3, reprocessed_by = $4, applied_row = $5::jsonb
        WHERE id = $1 AND reprocessed_at IS NULL`,
      [
        id,
        (options.now ?? (() => new Date()))(),
        outcome.status,
        options.by,
        edited && !refusal ? JSON.stringify(row) : null,
      ],
    );
    // Another reprocessing got there first (its row applied too: importers are idempotent).
    if (closed.rowCount === 0) {
      throw alreadyReprocessed((await loadImportRejection(tx, id)) ?? rejection);
    }
    if (!refusal) return;
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO import_rejection
              (run_id, file, row_number, row, code, reason, attempt, reprocess_of)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) RETURNING id::text AS id`,
      [
        rejection.runId,
        rejection.file,
        rejection.rowNumber,
        JSON.stringify(row),
        refusal.reason,
        refusal.message,
        rejection.attempt + 1,
        id,
      ],
    );
    outcome.retryId = rows[0]!.id;
  });
  return outcome;
}

function alreadyReprocessed(rejection: ImportRejectionDetail) {
  const when = rejection.reprocessedAt ? ` at ${rejection.reprocessedAt}` : '';
  const then =
    rejection.outcome === 'rejected' && rejection.retryId
      ? `: rejected again, kept as rejection ${rejection.retryId}`
      : rejection.outcome === 'applied'
        ? ': applied'
        : '';
  return new MedaxisError(
    ErrorCode.conflict,
    'already_reprocessed',
    `Rejection ${rejection.id} was reprocessed${when}${then}.`,
  );
}

/** CSV rows are objects of column → text; a FHIR row is a resource (an object). */
function isRowShaped(kind: string, row: unknown): boolean {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return false;
  return kind === 'fhir' || Object.values(row).every((cell) => typeof cell === 'string');
}

async function applyRow(
  db: Db,
  rejection: ImportRejectionDetail,
  row: unknown,
  options: ReprocessOptions,
): Promise<void> {
  switch (rejection.kind) {
    case 'fhir':
      await applyFhirResource(db, row, { audit: options.audit, now: options.now });
      return;
    case 'synthea':
      await applySyntheaRow(db, rejection.file, row as Record<string, string>, {
        audit: options.audit,
      });
      return;
    case 'locations':
      await applyLocationRow(db, row as Record<string, string>, rejection.rowNumber);
      return;
    default:
      throw new Error(`no reprocessing for ${rejection.kind}`);
  }
}
