import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ensureEncounter,
  ensurePatient,
  executeCommand,
  type CommandAuditSink,
  type Db,
} from '@medaxis/db';
import { isMedaxisError, liveCommandOptions, type Command } from '@medaxis/domain';

import { buildHistory, type HistoryEvent, type Visit } from './build-history.ts';
import { departmentForCareUnit } from './care-units.ts';
import { mimicAuthority } from './import-mimic.ts';
import {
  ensureMimicSite,
  ensureUnitBed,
  ensureUnitDepartment,
  unitBedCode,
} from './mimic-catalog.ts';
import { checkTimeZone } from './mimic-time.ts';
import { readMimicFiles } from './read-mimic-files.ts';

/*
 * Replay and import share nothing but patients and the site, on purpose.
 *
 * An import writes history: its beds carry status intervals dated up to 2201, and the domain
 * refuses any event dated before a bed's current status. Replay applies each event at
 * wall-clock now with live options, so a live admit into an imported bed (its status since
 * 2201) would be refused as before_current_state, and reusing an imported encounter would be
 * refused as already discharged. So replay keeps to its own world: departments REPLAY-<code>
 * with their own beds, created as needed, and encounters under source system 'mimic-replay'
 * whose source_ref carries the run's start instant, so every run starts fresh. That works
 * the same on a fresh database and after an import, and census or the board can tell the
 * two apart by department.
 *
 * Beds are chosen live, not from the import's plan: live rules do not let a patient into a
 * bed awaiting housekeeping, the board's users may block or clean beds while it runs, and an
 * interrupted earlier run may have left patients in beds. A free bed is taken first; else the
 * bed vacated longest ago is cleaned (cleaning-finished, as housekeeping would report it)
 * and taken; else the unit gets a new bed.
 */
export const replaySourceSystem = 'mimic-replay';
const replaySource = 'replay';
const replayPrefix = 'REPLAY-';

export interface ReplayMimicOptions {
  dir: string;
  timeZone?: string;
  /** Historical time per wall-clock time: 3600 plays an hour of history per second. */
  speed: number;
  /** No wait between two events is longer than this, however long the idle gap in history. */
  maxWaitMs?: number;
  /** Stop after this many history events (admits, transfers, discharges). */
  limit?: number;
  signal?: AbortSignal;
  onEvent?: (progress: ReplayProgress) => void;
  /** The audit trail: each played event is the system's write of its patients. */
  audit?: (CommandAuditSink & { flush(): Promise<void> }) | undefined;
}

export interface ReplayProgress {
  index: number;
  total: number;
  event: HistoryEvent;
  /** Undefined when applied; the domain's reason when it refused the event. */
  refusedFor?: string;
}

export interface ReplaySummary {
  /** The source_ref prefix of this run's encounters. */
  run: string;
  /** History events played (attempted), out of `total`. */
  events: number;
  total: number;
  applied: number;
  refusedByReason: Record<string, number>;
  /** Beds cleaned so that an incoming patient could take them. */
  bedsCleaned: number;
  /** Patients an earlier, interrupted replay had left in bed, discharged at the start. */
  leftoversDischarged: number;
  /** transfers.csv rows left out because they do not fit the rules (see the import report). */
  rowsLeftOut: number;
}

/**
 * Plays the MIMIC history as live events in time order: each event waits for its share of
 * the historical gap divided by `speed` (at most `maxWaitMs`), then is applied at now.
 */
export async function replayMimic(db: Db, options: ReplayMimicOptions): Promise<ReplaySummary> {
  if (!(options.speed > 0)) throw new RangeError('speed must be a positive number');
  const timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  const files = await readMimicFiles(resolve(options.dir));
  const history = buildHistory(files, timeZone);
  const events = history.events.slice(0, options.limit ?? history.events.length);

  const siteId = await ensureMimicSite(db, timeZone);
  const leftoversDischarged = await dischargeLeftovers(db, options.audit);
  const run = new Date().toISOString();
  const world = new ReplayWorld(db, siteId, run, options.audit);

  const summary: ReplaySummary = {
    run,
    events: 0,
    total: events.length,
    applied: 0,
    refusedByReason: {},
    bedsCleaned: 0,
    leftoversDischarged,
    rowsLeftOut: new Set(history.rejections.map((rejection) => rejection.row)).size,
  };
  let previous: HistoryEvent | undefined;
  for (const [index, event] of events.entries()) {
    if (previous) {
      const gapMs = (event.at.getTime() - previous.at.getTime()) / options.speed;
      const waitMs = Math.min(gapMs, options.maxWaitMs ?? 3000);
      if (waitMs > 0) await sleep(waitMs, undefined, { signal: options.signal }).catch(() => {});
    }
    // Stopping (Ctrl-C) ends the run between two events, each of which is one transaction.
    if (options.signal?.aborted) break;
    previous = event;

    let refusedFor: string | undefined;
    summary.events++;
    try {
      await world.apply(event, history.visits.get(event.visitKey)!);
      summary.applied++;
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
      refusedFor = error.reason;
      summary.refusedByReason[refusedFor] = (summary.refusedByReason[refusedFor] ?? 0) + 1;
    }
    options.onEvent?.({ index, total: events.length, event, refusedFor });
  }
  summary.bedsCleaned = world.bedsCleaned;
  await options.audit?.flush();
  return summary;
}

/** Encounters, departments and beds of one replay run, created as the events need them. */
class ReplayWorld {
  bedsCleaned = 0;
  private readonly encounters = new Map<string, string>();
  private readonly units = new Map<string, { roomId: number; code: string }>();

  constructor(
    private readonly db: Db,
    private readonly siteId: number,
    private readonly run: string,
    private readonly audit: CommandAuditSink | undefined,
  ) {}

  async apply(event: HistoryEvent, visit: Visit) {
    const encounterId = await this.encounterOf(visit);
    // Taken after any cleaning the bed needed, which is dated now as well.
    const command: Command =
      event.kind === 'discharge' || event.careUnit === null
        ? { type: 'discharge', encounterId, at: new Date() }
        : {
            type: event.kind,
            encounterId,
            bedId: await this.takeBed(event.careUnit),
            at: new Date(),
          };

    await live(this.db, command, this.audit);
  }

  private async encounterOf(visit: Visit): Promise<string> {
    const known = this.encounters.get(visit.key);
    if (known) return known;
    const patientId = await ensurePatient(this.db, {
      mrn: visit.subjectId,
      authority: mimicAuthority,
    });
    const encounterId = await ensureEncounter(this.db, {
      patientId,
      class: visit.class,
      sourceSystem: replaySourceSystem,
      sourceRef: `${this.run}/${visit.sourceRef}`,
    });
    this.encounters.set(visit.key, encounterId);
    return encounterId;
  }

  private async takeBed(careUnit: string): Promise<number> {
    const unit = await this.unitOf(careUnit);
    const { rows } = await this.db.query<{ id: number; status: string }>(
      `SELECT id, status::text AS status FROM bed
        WHERE room_id = $1 AND status IN ('free', 'housekeeping', 'cleaning')
        ORDER BY (status = 'free') DESC, status_since, id
        LIMIT 1`,
      [unit.roomId],
    );
    const candidate = rows[0];
    if (candidate?.status === 'free') return candidate.id;
    if (candidate) {
      await live(
        this.db,
        { type: 'cleaning-finished', bedId: candidate.id, at: new Date() },
        this.audit,
      );
      this.bedsCleaned++;
      return candidate.id;
    }

    const count = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bed WHERE room_id = $1`,
      [unit.roomId],
    );
    return ensureUnitBed(this.db, {
      roomId: unit.roomId,
      code: unitBedCode(unit.code, count.rows[0]!.n + 1),
      since: new Date(),
    });
  }

  private async unitOf(careUnit: string) {
    const known = this.units.get(careUnit);
    if (known) return known;
    const department = departmentForCareUnit(careUnit);
    const code = `${replayPrefix}${department.code}`;
    const { roomId } = await ensureUnitDepartment(this.db, this.siteId, {
      ...department,
      code,
      name: `${department.name} (replay)`,
    });
    const unit = { roomId, code };
    this.units.set(careUnit, unit);
    return unit;
  }
}

async function live(db: Db, command: Command, audit: CommandAuditSink | undefined) {
  return executeCommand(db, command, {
    source: replaySource,
    options: liveCommandOptions(new Date()),
    audit,
  });
}

/**
 * Discharges, at now, the patients an interrupted earlier replay left in bed.
 * NOTE: it cannot tell an interrupted run from one still running: two replays at once on one
 * database discharge each other's patients. One replay at a time.
 */
async function dischargeLeftovers(db: Db, audit: CommandAuditSink | undefined): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM encounter WHERE source_system = $1 AND status = 'in_progress' ORDER BY id`,
    [replaySourceSystem],
  );
  let discharged = 0;
  for (const { id } of rows) {
    try {
      await live(db, { type: 'discharge', encounterId: id, at: new Date() }, audit);
      discharged++;
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
    }
  }
  return discharged;
}
