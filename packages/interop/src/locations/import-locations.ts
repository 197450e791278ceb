import { basename, resolve } from 'node:path';

import { getSite, withTransaction, type Db, type Queryable, type Tx } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';

import { keepImportRejections } from '../import-run.ts';
import {
  checkLocationRow,
  readLocationsFile,
  type LocationRow,
  type RowProblem,
} from './read-locations.ts';

export const locationsImportKind = 'locations';

export interface ImportLocationsOptions {
  file: string;
  /** Called after each row, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

/** What one run did, stored in import_run.report and printed by the CLI. */
export interface LocationsReport {
  runId: number;
  source: string;
  /** Data rows: each counted once, in exactly one of the outcomes. */
  rows: { read: number; applied: number; unchanged: number; rejected: number };
  created: { departments: number; rooms: number; beds: number };
  updated: { departments: number; beds: number };
  rejectedByReason: Record<string, number>;
  /** Every rejected row: its line, code and reason (the raw row is in import_rejection). */
  rejections: { line: number; code: string; reason: string }[];
  /** Rejected rows already kept, unreprocessed, by an earlier run: not stored twice. */
  rejectionsAlreadyKept: number;
  /** Rows earlier runs rejected whose location this run applied: marked reprocessed. */
  rejectionsResolved: number;
}

interface Changes {
  created: LocationsReport['created'];
  updated: LocationsReport['updated'];
}

class RowRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Imports departments, rooms and beds from a plain CSV (README "Locations from a CSV file").
 * Each row applies in its own transaction; a row that breaks a rule is kept with its reason in
 * import_rejection and the others still apply. The file describes the locations as they should
 * be: a department or bed that differs is brought in line (its needs_review flag, set when a
 * feed created it on first use, is cleared), one that matches is left alone, so a second run
 * of the same file changes nothing. A bed never moves to another room here: its stays and
 * history belong to where it was, so such a row is refused (bed_in_other_room).
 */
export async function importLocations(
  db: Db,
  options: ImportLocationsOptions,
): Promise<LocationsReport> {
  const path = resolve(options.file);
  const file = await readLocationsFile(path);
  const site = await getSite(db);
  if (!site) {
    throw new MedaxisError(
      ErrorCode.notFound,
      'no_site',
      'No site is configured: run `medaxis seed` (or `npm start`) first.',
    );
  }

  const problems: RowProblem[] = [...file.problems];
  const rows = withoutConflicts(file.rows, problems);
  const runId = await openRun(db, path);

  const changes: Changes = {
    created: { departments: 0, rooms: 0, beds: 0 },
    updated: { departments: 0, beds: 0 },
  };
  let applied = 0;
  let unchanged = 0;
  const standing: string[] = [];
  let done = file.read - rows.length;
  for (const row of rows) {
    try {
      const changed = await withTransaction(db, (tx) => applyRow(tx, site.id, row, changes));
      if (changed) applied++;
      else unchanged++;
      standing.push(locationKey(row));
    } catch (error) {
      if (!(error instanceof RowRefused)) throw error;
      problems.push({ line: row.line, raw: row.raw, code: error.code, reason: error.message });
    }
    options.onProgress?.(++done, file.read);
  }

  problems.sort((a, b) => a.line - b.line);
  // A location this run still refuses a row about stays unresolved, even if another row of it
  // applied (the second listing of a bed is still wrong).
  const refused = new Set(problems.map((problem) => rawLocationKey(problem.raw)));
  const resolved = await resolveRejections(
    db,
    runId,
    basename(path),
    standing.filter((key) => !refused.has(key)),
  );
  const fileName = basename(path);
  const { alreadyKept } = await keepImportRejections(
    db,
    locationsImportKind,
    runId,
    problems.map((problem) => ({
      file: fileName,
      row: problem.line,
      raw: problem.raw,
      reason: problem.code,
      message: problem.reason,
    })),
  );
  const report: LocationsReport = {
    runId,
    source: path,
    rows: { read: file.read, applied, unchanged, rejected: problems.length },
    ...changes,
    rejectedByReason: countByReason(problems),
    rejections: problems.map(({ line, code, reason }) => ({ line, code, reason })),
    rejectionsAlreadyKept: alreadyKept,
    rejectionsResolved: resolved,
  };
  await closeRun(db, runId, report);
  return report;
}

/**
 * Applies one row on its own, as a run of a file holding only that row would: how a kept
 * rejection is reprocessed (interop/src/import-rejections.ts). Throws the MedaxisError the
 * row would be rejected with (VALIDATION for a row that does not read, CONFLICT for one the
 * hospital's state refuses, with the import's reason code). The checks against other rows of
 * its file (department_conflict, duplicate_bed) do not apply alone: the row as given is what
 * is asked.
 */
export async function applyLocationRow(
  db: Db,
  raw: Record<string, string>,
  line = 0,
): Promise<{ changed: boolean }> {
  const checked = checkLocationRow(line, raw);
  if ('code' in checked) {
    throw new MedaxisError(ErrorCode.validation, checked.code, checked.reason);
  }
  const site = await getSite(db);
  if (!site) {
    throw new MedaxisError(ErrorCode.notFound, 'no_site', 'No site is configured.');
  }
  const changes: Changes = {
    created: { departments: 0, rooms: 0, beds: 0 },
    updated: { departments: 0, beds: 0 },
  };
  try {
    const changed = await withTransaction(db, (tx) => applyRow(tx, site.id, checked, changes));
    return { changed };
  } catch (error) {
    if (!(error instanceof RowRefused)) throw error;
    throw new MedaxisError(ErrorCode.conflict, error.code, error.message);
  }
}

/**
 * Rows that contradict an earlier row of the same file are refused: a second name or kind for
 * a department, a bed code listed twice. The first row wins, as a reader of the file would
 * expect.
 */
function withoutConflicts(rows: readonly LocationRow[], problems: RowProblem[]) {
  const departments = new Map<string, { name: string | null; kind: string | null; line: number }>();
  const beds = new Map<string, number>();
  const kept: LocationRow[] = [];
  for (const row of rows) {
    const refuse = (code: string, reason: string) =>
      problems.push({ line: row.line, raw: row.raw, code, reason });
    const known = departments.get(row.department);
    if (known) {
      const name = row.departmentName !== null && known.name !== null;
      const kind = row.kind !== null && known.kind !== null;
      if ((name && row.departmentName !== known.name) || (kind && row.kind !== known.kind)) {
        refuse(
          'department_conflict',
          `Line ${known.line} gives department ${row.department} another name or kind.`,
        );
        continue;
      }
      known.name ??= row.departmentName;
      known.kind ??= row.kind;
    } else {
      departments.set(row.department, {
        name: row.departmentName,
        kind: row.kind,
        line: row.line,
      });
    }
    if (row.bed !== null) {
      const first = beds.get(row.bed);
      if (first !== undefined) {
        refuse('duplicate_bed', `Bed ${row.bed} is already listed on line ${first}.`);
        continue;
      }
      beds.set(row.bed, row.line);
    }
    kept.push(row);
  }
  return kept;
}

/** Applies one row; true when it changed anything. */
async function applyRow(tx: Tx, siteId: number, row: LocationRow, changes: Changes) {
  const department = await upsertDepartment(tx, siteId, row, changes);
  let changed = department.changed;
  if (row.room === null) return changed;

  const room = await tx.query<{ id: number }>(
    `INSERT INTO room (department_id, code) VALUES ($1, $2)
     ON CONFLICT (department_id, code) DO NOTHING RETURNING id`,
    [department.id, row.room],
  );
  let roomId = room.rows[0]?.id;
  if (roomId === undefined) {
    const found = await tx.query<{ id: number }>(
      `SELECT id FROM room WHERE department_id = $1 AND code = $2`,
      [department.id, row.room],
    );
    roomId = found.rows[0]!.id;
  } else {
    changes.created.rooms++;
    changed = true;
  }
  if (row.bed === null) return changed;

  return (await upsertBed(tx, roomId, row, changes)) || changed;
}

async function upsertDepartment(tx: Tx, siteId: number, row: LocationRow, changes: Changes) {
  const { rows } = await tx.query<{
    id: number;
    name: string;
    kind: string;
    sortOrder: number;
    needsReview: boolean;
  }>(
    `SELECT id, name, kind::text AS kind, sort_order AS "sortOrder", needs_review AS "needsReview"
       FROM department WHERE code = $1 FOR UPDATE`,
    [row.department],
  );
  const existing = rows[0];
  if (!existing) {
    if (row.departmentName === null || row.kind === null) {
      throw new RowRefused(
        'incomplete_department',
        `Department ${row.department} is new: its first row needs department_name and kind.`,
      );
    }
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO department (site_id, code, name, kind, sort_order)
       VALUES ($1, $2, $3, $4::department_kind, $5) RETURNING id`,
      [siteId, row.department, row.departmentName, row.kind, row.sortOrder ?? 0],
    );
    changes.created.departments++;
    return { id: inserted.rows[0]!.id, changed: true };
  }

  const name = row.departmentName ?? existing.name;
  const kind = row.kind ?? existing.kind;
  const sortOrder = row.sortOrder ?? existing.sortOrder;
  if (
    name === existing.name &&
    kind === existing.kind &&
    sortOrder === existing.sortOrder &&
    !existing.needsReview
  ) {
    return { id: existing.id, changed: false };
  }
  await tx.query(
    `UPDATE department
        SET name = $2, kind = $3::department_kind, sort_order = $4, needs_review = false
      WHERE id = $1`,
    [existing.id, name, kind, sortOrder],
  );
  changes.updated.departments++;
  return { id: existing.id, changed: true };
}

async function upsertBed(tx: Tx, roomId: number, row: LocationRow, changes: Changes) {
  const code = row.bed!;
  const { rows } = await tx.query<{
    id: number;
    roomId: number;
    type: string;
    tags: string[];
    needsReview: boolean;
    place: string;
  }>(
    `SELECT b.id, b.room_id AS "roomId", b.type, b.tags, b.needs_review AS "needsReview",
            d.code || ' room ' || r.code AS place
       FROM bed b JOIN room r ON r.id = b.room_id JOIN department d ON d.id = r.department_id
      WHERE b.code = $1 FOR UPDATE OF b`,
    [code],
  );
  const existing = rows[0];
  if (!existing) {
    // A new bed is free from now on, with its first status interval (as ensureBed does).
    await tx.query(
      `WITH inserted AS (
         INSERT INTO bed (room_id, code, type, tags, status, status_since)
         VALUES ($1, $2, $3, $4, 'free', now()) RETURNING id)
       INSERT INTO bed_status_history (bed_id, status, start_at)
       SELECT id, 'free', now() FROM inserted`,
      [roomId, code, row.bedType ?? 'standard', row.tags ?? []],
    );
    changes.created.beds++;
    return true;
  }
  if (existing.roomId !== roomId) {
    throw new RowRefused(
      'bed_in_other_room',
      `Bed ${code} exists in ${existing.place}; an import does not move beds between rooms.`,
    );
  }

  const type = row.bedType ?? existing.type;
  const tags = row.tags ?? existing.tags;
  const sameTags = [...existing.tags].sort().join(';') === [...tags].sort().join(';');
  if (type === existing.type && sameTags && !existing.needsReview) return false;
  await tx.query(`UPDATE bed SET type = $2, tags = $3, needs_review = false WHERE id = $1`, [
    existing.id,
    type,
    tags,
  ]);
  changes.updated.beds++;
  return true;
}

// ---- run, rejections -------------------------------------------------------------------------

async function openRun(db: Queryable, source: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO import_run (kind, source) VALUES ($1, $2) RETURNING id`,
    [locationsImportKind, source],
  );
  return rows[0]!.id;
}

async function closeRun(db: Queryable, runId: number, report: LocationsReport) {
  await db.query(
    `UPDATE import_run SET finished_at = now(), applied = $2, rejected = $3, report = $4
      WHERE id = $1`,
    [runId, report.rows.applied, report.rows.rejected, JSON.stringify(report)],
  );
}

/** What a row is about: its bed, else its room, else its department. */
function locationKey(row: Pick<LocationRow, 'department' | 'room' | 'bed'>): string {
  return row.bed ?? `${row.department}/${row.room ?? ''}`;
}

function rawLocationKey(raw: Record<string, string>): string {
  return raw.bed || `${raw.department ?? ''}/${raw.room ?? ''}`;
}

/** The same key over a kept row's cells (import_rejection.row), in SQL. */
const rejectionKey = `coalesce(nullif(r.row->>'bed', ''),
  coalesce(r.row->>'department', '') || '/' || coalesce(r.row->>'room', ''))`;

/**
 * A rejected row is resolved once a later run of a file of the same name applies a row about
 * the same location (fixed rows usually move: lines are not a key): it is marked reprocessed.
 */
async function resolveRejections(
  db: Queryable,
  runId: number,
  file: string,
  keys: readonly string[],
) {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE import_rejection r
        SET reprocessed_at = now(), outcome = 'applied', reprocessed_by = $4
       FROM import_run u
      WHERE u.id = r.run_id AND u.kind = $1 AND r.file = $2 AND r.reprocessed_at IS NULL
        AND ${rejectionKey} = ANY($3::text[])`,
    [locationsImportKind, file, keys, `import run ${runId}`],
  );
  return rowCount ?? 0;
}

function countByReason(problems: readonly RowProblem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { code } of problems) counts[code] = (counts[code] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
