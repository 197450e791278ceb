import { resolve } from 'node:path';

import {
  ensureEncounter,
  ensurePatient,
  executeCommand,
  type Db,
  type Queryable,
} from '@medaxis/db';
import { historyCommandOptions, isMedaxisError, type Command } from '@medaxis/domain';

import type { ImportAuditSink } from '../import-run.ts';
import { buildHistory, type History, type HistoryEventKind } from './build-history.ts';
import { departmentForCareUnit } from './care-units.ts';
import {
  ensureMimicSite,
  ensureUnitBed,
  ensureUnitDepartment,
  mimicRoomCode,
  unitBedCode,
} from './mimic-catalog.ts';
import { checkTimeZone } from './mimic-time.ts';
import { planBeds, type PlannedBed, type PlannedEvent } from './plan-beds.ts';
import { readMimicFiles, type CsvRow } from './read-mimic-files.ts';

export const mimicSourceSystem = 'mimic';
export const mimicAuthority = 'MIMIC';
const importSource = 'import:mimic';

export interface ImportMimicOptions {
  dir: string;
  /** IANA zone MIMIC's zoneless timestamps are read in; UTC by default. */
  timeZone?: string;
  /** Called after each event, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The audit trail (packages/audit's AuditWriter fits): every applied event is recorded as a
   * write by the system (source import:mimic), without a wait per event; the import flushes
   * before it reports, so its rows are durable when it returns.
   */
  audit?: ImportAuditSink | undefined;
}

/** What one run did, stored in import_run.report and printed by the CLI. */
export interface ImportReport {
  runId: number;
  source: string;
  timeZone: string;
  /** Data rows read per file. */
  files: Record<string, number>;
  /** transfers.csv rows: every row is counted once, in exactly one of the three outcomes. */
  rows: { read: number; applied: number; alreadyImported: number; rejected: number };
  rejectedByReason: Record<string, number>;
  /** Events written by this run, by type, and events found already written by an earlier one. */
  events: { applied: Record<HistoryEventKind, number>; alreadyImported: number };
  /** Rows created by this run (0 everywhere on a re-run). */
  created: { departments: number; beds: number; patients: number; encounters: number };
  /** Rejected rows already kept, unreprocessed, by an earlier run: not stored twice. */
  rejectionsAlreadyKept: number;
  /**
   * Rows earlier runs rejected that this run applied (or found applied), matched by
   * transfer_id: marked reprocessed. A MIMIC row cannot be reprocessed alone (its stay is
   * measured against its admission's other rows): fixing the file and re-running is the way.
   */
  rejectionsResolved: number;
  warnings: History['warnings'];
}

interface RowOutcome {
  applied: number;
  alreadyImported: number;
  rejection?: { reason: string; message: string };
}

/**
 * Imports MIMIC-IV patients, admissions and transfers as encounters and bed stays, through
 * the domain and executeCommand like any live event, with history options (MIMIC's dates lie
 * in 2110–2201; feeds may put a patient in a bed not yet cleaned).
 *
 * Idempotent: encounters are keyed by hadm_id, beds by a code the plan derives from the data
 * alone, and an event whose stay (or discharge) is already there is skipped, so a second run
 * writes nothing and a run that stopped half-way is completed by the next.
 */
export async function importMimic(db: Db, options: ImportMimicOptions): Promise<ImportReport> {
  const timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  const dir = resolve(options.dir);
  const files = await readMimicFiles(dir);

  const history = buildHistory(files, timeZone);
  const plan = planBeds(history.events);

  const outcomes = new Map<CsvRow, RowOutcome>();
  const outcomeOf = (row: CsvRow) => {
    const outcome = outcomes.get(row) ?? { applied: 0, alreadyImported: 0 };
    outcomes.set(row, outcome);
    return outcome;
  };
  const reject = (row: CsvRow, reason: string, message: string) => {
    const outcome = outcomeOf(row);
    // The first refusal is the cause; an ED visit's discharge refused after its admit adds
    // nothing.
    outcome.rejection ??= { reason, message };
  };
  for (const { row, reason, message } of history.rejections) reject(row, reason, message);
  for (const { event, reason, message } of plan.rejections) reject(event.row, reason, message);

  const before = await countMimicRows(db, plan.beds);
  const siteId = await ensureMimicSite(db, timeZone);
  const beds = await ensurePlannedBeds(db, siteId, plan.beds);
  const encounters = await ensureVisits(db, history, plan.events, files.patients);
  const runId = await openRun(db, dir);

  const done = await loadImportedState(db);
  const applied: Record<HistoryEventKind, number> = { admit: 0, transfer: 0, discharge: 0 };
  let alreadyImported = 0;
  let progress = 0;
  for (const planned of plan.events) {
    const { event } = planned;
    const command = toCommand(planned, encounters, beds);
    const outcome = outcomeOf(event.row);

    if (isImported(done, command)) {
      outcome.alreadyImported++;
      alreadyImported++;
    } else {
      try {
        await executeCommand(db, command, {
          source: importSource,
          options: historyCommandOptions(new Date()),
        });
        outcome.applied++;
        applied[event.kind]++;
        options.audit?.defer({
          source: importSource,
          operation: `import.mimic.${event.kind}`,
          action: 'write',
          actor: { kind: 'system', id: 'system', roles: ['system'] },
          purpose: 'operations',
          resourceType: 'encounter',
          resourceId: encounters.get(event.visitKey)!,
          encounterIds: [encounters.get(event.visitKey)!],
          outcome: 'allowed',
        });
      } catch (error) {
        if (!isMedaxisError(error)) throw error;
        reject(event.row, error.reason, error.message);
      }
    }
    options.onProgress?.(++progress, plan.events.length);
  }

  await options.audit?.flush();
  const kept = await keepRejections(db, runId, outcomes);
  const resolved = await resolveRejections(db, runId, files.transfers, outcomes);
  const after = await countMimicRows(db, plan.beds);
  const report: ImportReport = {
    runId,
    source: dir,
    timeZone,
    files: {
      'hosp/transfers.csv': files.transfers.length,
      'hosp/admissions.csv': files.admissions.size,
      'hosp/patients.csv': files.patients.size,
    },
    rows: summarizeRows(files.transfers, outcomes),
    rejectedByReason: countByReason(outcomes),
    events: { applied, alreadyImported },
    created: {
      departments: after.departments - before.departments,
      beds: after.beds - before.beds,
      patients: after.patients - before.patients,
      encounters: after.encounters - before.encounters,
    },
    rejectionsAlreadyKept: kept.alreadyKept,
    rejectionsResolved: resolved,
    warnings: history.warnings,
  };
  await closeRun(db, runId, report);
  return report;
}

// ---- catalog, patients, encounters ------------------------------------------------------------

async function ensurePlannedBeds(
  db: Db,
  siteId: number,
  planned: readonly PlannedBed[],
): Promise<Map<PlannedBed, number>> {
  const rooms = new Map<string, { roomId: number; code: string }>();
  const codes = new Map<string, string>();
  const beds = new Map<PlannedBed, number>();
  for (const bed of planned) {
    let room = rooms.get(bed.careUnit);
    if (!room) {
      const department = departmentForCareUnit(bed.careUnit);
      const other = codes.get(department.code);
      if (other !== undefined && other !== department.name) {
        throw new Error(
          `care units "${other}" and "${department.name}" share code ${department.code}`,
        );
      }
      codes.set(department.code, department.name);
      const { roomId } = await ensureUnitDepartment(db, siteId, department);
      room = { roomId, code: department.code };
      rooms.set(bed.careUnit, room);
    }
    const code = unitBedCode(room.code, bed.number);
    beds.set(bed, await ensureUnitBed(db, { roomId: room.roomId, code, since: bed.firstUse }));
  }
  return beds;
}

/** One encounter per visit that has at least one event to apply, with its patient. */
async function ensureVisits(
  db: Db,
  history: History,
  planned: readonly PlannedEvent[],
  patients: ReadonlyMap<string, CsvRow>,
): Promise<Map<string, string>> {
  const patientIds = new Map<string, string>();
  const encounterIds = new Map<string, string>();
  for (const { event } of planned) {
    if (encounterIds.has(event.visitKey)) continue;
    const visit = history.visits.get(event.visitKey)!;
    let patientId = patientIds.get(visit.subjectId);
    if (!patientId) {
      const sex = patients.get(visit.subjectId)?.raw.gender?.trim();
      patientId = await ensurePatient(db, {
        mrn: visit.subjectId,
        authority: mimicAuthority,
        sex: sex || null,
      });
      patientIds.set(visit.subjectId, patientId);
    }
    const encounterId = await ensureEncounter(db, {
      patientId,
      class: visit.class,
      admitDecisionAt: visit.admitDecisionAt,
      sourceSystem: mimicSourceSystem,
      sourceRef: visit.sourceRef,
    });
    encounterIds.set(event.visitKey, encounterId);
  }
  return encounterIds;
}

function toCommand(
  planned: PlannedEvent,
  encounters: ReadonlyMap<string, string>,
  beds: ReadonlyMap<PlannedBed, number>,
): Command {
  const { event, bed } = planned;
  const encounterId = encounters.get(event.visitKey)!;
  if (event.kind === 'discharge' || !bed) return { type: 'discharge', encounterId, at: event.at };
  return { type: event.kind, encounterId, bedId: beds.get(bed)!, at: event.at };
}

// ---- idempotency -----------------------------------------------------------------------------

interface ImportedState {
  /** `${encounterId} ${bedId} ${startMs}` of every live stay of a MIMIC encounter. */
  stays: Set<string>;
  /** Discharge instant by encounter id. */
  discharges: Map<string, number>;
}

async function loadImportedState(db: Queryable): Promise<ImportedState> {
  const { rows } = await db.query<{
    encounterId: string;
    dischargedAt: Date | null;
    bedId: number | null;
    startAt: Date | null;
  }>(
    `SELECT e.id AS "encounterId", e.discharged_at AS "dischargedAt",
            s.bed_id AS "bedId", s.start_at AS "startAt"
       FROM encounter e
       LEFT JOIN bed_stay s ON s.encounter_id = e.id AND NOT s.cancelled
      WHERE e.source_system = $1 AND e.status <> 'planned'`,
    [mimicSourceSystem],
  );
  const state: ImportedState = { stays: new Set(), discharges: new Map() };
  for (const row of rows) {
    if (row.startAt) state.stays.add(`${row.encounterId} ${row.bedId} ${row.startAt.getTime()}`);
    if (row.dischargedAt) state.discharges.set(row.encounterId, row.dischargedAt.getTime());
  }
  return state;
}

function isImported(state: ImportedState, command: Command): boolean {
  if (command.type === 'admit' || command.type === 'transfer') {
    return state.stays.has(`${command.encounterId} ${command.bedId} ${command.at.getTime()}`);
  }
  if (command.type === 'discharge') {
    return state.discharges.get(command.encounterId) === command.at.getTime();
  }
  return false;
}

// ---- run, rejections, report -----------------------------------------------------------------

async function openRun(db: Queryable, source: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO import_run (kind, source) VALUES ('mimic', $1) RETURNING id`,
    [source],
  );
  return rows[0]!.id;
}

async function closeRun(db: Queryable, runId: number, report: ImportReport) {
  await db.query(
    `UPDATE import_run SET finished_at = now(), applied = $2, rejected = $3, report = $4
      WHERE id = $1`,
    [runId, report.rows.applied, report.rows.rejected, JSON.stringify(report)],
  );
}

/**
 * Keeps each rejected row with its reason. A row an earlier run already kept, and nobody has
 * reprocessed since, is not stored again: a re-run reports it but does not duplicate it.
 */
async function keepRejections(db: Queryable, runId: number, outcomes: Map<CsvRow, RowOutcome>) {
  let alreadyKept = 0;
  for (const [row, outcome] of outcomes) {
    if (!outcome.rejection) continue;
    const { rowCount } = await db.query(
      `INSERT INTO import_rejection (run_id, file, row_number, row, code, reason)
       SELECT $1, $2, $3, $4::jsonb, $5, $6
        WHERE NOT EXISTS (
          SELECT 1 FROM import_rejection r JOIN import_run u ON u.id = r.run_id
           WHERE u.kind = 'mimic' AND r.file = $2 AND r.row_number = $3 AND r.code = $5
             AND r.row = $4::jsonb AND r.reprocessed_at IS NULL)`,
      [
        runId,
        row.file,
        row.line,
        JSON.stringify(row.raw),
        outcome.rejection.reason,
        outcome.rejection.message,
      ],
    );
    if (rowCount === 0) alreadyKept++;
  }
  return { alreadyKept };
}

/**
 * Marks reprocessed the open rejections of earlier runs whose transfers row (same
 * transfer_id) this run applied or found already applied: the fixed file put them in.
 */
async function resolveRejections(
  db: Queryable,
  runId: number,
  rows: readonly CsvRow[],
  outcomes: Map<CsvRow, RowOutcome>,
) {
  const standing = rows
    .filter((row) => {
      const outcome = outcomes.get(row);
      return outcome && !outcome.rejection && outcome.applied + outcome.alreadyImported > 0;
    })
    .map((row) => row.raw.transfer_id?.trim() ?? '')
    .filter((id) => id !== '');
  if (standing.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE import_rejection r
        SET reprocessed_at = now(), outcome = 'applied', reprocessed_by = $3
       FROM import_run u
      WHERE u.id = r.run_id AND u.kind = 'mimic' AND u.id <> $1 AND r.reprocessed_at IS NULL
        AND r.file = 'hosp/transfers.csv' AND r.row->>'transfer_id' = ANY($2::text[])`,
    [runId, standing, `import run ${runId}`],
  );
  return rowCount ?? 0;
}

function summarizeRows(rows: readonly CsvRow[], outcomes: Map<CsvRow, RowOutcome>) {
  const summary = { read: rows.length, applied: 0, alreadyImported: 0, rejected: 0 };
  for (const row of rows) {
    const outcome = outcomes.get(row);
    if (!outcome || outcome.rejection) summary.rejected++;
    else if (outcome.applied > 0) summary.applied++;
    else summary.alreadyImported++;
  }
  return summary;
}

function countByReason(outcomes: Map<CsvRow, RowOutcome>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { rejection } of outcomes.values()) {
    if (rejection) counts[rejection.reason] = (counts[rejection.reason] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

async function countMimicRows(db: Queryable, beds: readonly PlannedBed[]) {
  const codes = [...new Set(beds.map((bed) => departmentForCareUnit(bed.careUnit).code))];
  const { rows } = await db.query<{
    departments: number;
    beds: number;
    patients: number;
    encounters: number;
  }>(
    `SELECT (SELECT count(*) FROM department WHERE code = ANY($1))::int AS departments,
            (SELECT count(*) FROM bed b JOIN room r ON r.id = b.room_id
                JOIN department d ON d.id = r.department_id
              WHERE d.code = ANY($1) AND r.code = $2)::int AS beds,
            (SELECT count(*) FROM patient_identity WHERE authority = $3)::int AS patients,
            (SELECT count(*) FROM encounter WHERE source_system = $4)::int AS encounters`,
    [codes, mimicRoomCode, mimicAuthority, mimicSourceSystem],
  );
  return rows[0]!;
}
