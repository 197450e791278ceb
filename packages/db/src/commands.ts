import {
  decide,
  ErrorCode,
  MedaxisError,
  type BedState,
  type BedStatusInterval,
  type Change,
  type Command,
  type DecideOptions,
  type EncounterState,
  type StayState,
  type World,
} from '@medaxis/domain';

import { loadBoardBeds, type BoardBedRow } from './board.ts';
import { appendEvent } from './events.ts';
import { withTransaction, type Db, type Tx } from './pool.ts';

export interface CommandContext {
  /** Where the command came from: ui, api, hl7, fhir, import:mimic, replay, simulator... */
  source: string;
  options: DecideOptions;
  /** Runs first in the command's transaction, e.g. to create the encounter an admit needs. */
  prepare?: (tx: Tx) => Promise<void>;
}

export interface CommandResult {
  eventId: string;
  beds: BoardBedRow[];
}

/** The payload every event of the bed board carries. */
export interface BedEventPayload {
  command: Command;
  beds: BoardBedRow[];
}

/**
 * Applies one command in one transaction: lock what it touches, load that slice of the world,
 * let the domain decide, write the rows, append the event (which notifies listeners on commit).
 * Throws MedaxisError for anything the caller got wrong; nothing is written then.
 */
export async function executeCommand(
  db: Db,
  commandOrBuild: Command | ((tx: Tx) => Promise<Command>),
  context: CommandContext,
): Promise<CommandResult> {
  return withTransaction(db, async (tx) => {
    await context.prepare?.(tx);
    // A command may need rows created in its own transaction first (a new encounter to admit).
    const command =
      typeof commandOrBuild === 'function' ? await commandOrBuild(tx) : commandOrBuild;
    return applyCommand(tx, command, context);
  });
}

/**
 * The body of executeCommand inside a transaction the caller owns, for callers that must
 * write more in the same commit (the HL7 feed records the message's outcome with its effect).
 * Run it under a savepoint if the transaction should survive a refusal.
 */
export async function applyCommand(
  tx: Tx,
  command: Command,
  context: Pick<CommandContext, 'source' | 'options'>,
): Promise<CommandResult> {
  const { world, departmentOfBed } = await loadWorld(tx, command);
  const changes = decide(world, command, context.options);

  await writeChanges(tx, changes).catch(translateConstraintError);

  const bedIds = touchedBeds(changes);
  const beds = await loadBoardBeds(tx, bedIds);
  const encounterId = 'encounterId' in command ? command.encounterId : null;
  const eventId = await appendEvent(tx, {
    type: command.type,
    occurredAt: command.at,
    source: context.source,
    departmentId: bedIds[0] === undefined ? null : (departmentOfBed.get(bedIds[0]) ?? null),
    bedId: bedIds[0] ?? null,
    encounterId,
    payload: { command, beds } satisfies BedEventPayload,
  });
  return { eventId, beds };
}

// ---- load ------------------------------------------------------------------------------------

/**
 * Loads and locks the encounters, then the beds, a command touches, each in id order so that
 * concurrent commands queue instead of deadlocking. Many admits into one bed serialize on the
 * bed row: the first wins, the others then see it occupied.
 */
async function loadWorld(
  tx: Tx,
  command: Command,
): Promise<{ world: World; departmentOfBed: Map<number, number> }> {
  const encounterIds = [
    ...new Set(
      [
        'encounterId' in command ? command.encounterId : undefined,
        command.type === 'swap' ? command.otherEncounterId : undefined,
      ].filter((id): id is string => id !== undefined),
    ),
  ].sort();
  const encounters = await loadEncounters(tx, encounterIds);

  const bedIds = new Set<number>();
  if ('bedId' in command) bedIds.add(command.bedId);
  for (const encounter of encounters.values()) {
    // The last two stays cover every bed a transfer, discharge or cancel can touch.
    for (const stay of encounter.stays.slice(-2)) bedIds.add(stay.bedId);
  }
  const { beds, departmentOfBed } = await loadBeds(
    tx,
    [...bedIds].sort((a, b) => a - b),
  );
  return { world: { beds, encounters }, departmentOfBed };
}

async function loadEncounters(tx: Tx, ids: string[]): Promise<Map<string, EncounterState>> {
  const encounters = new Map<string, EncounterState>();
  if (ids.length === 0) return encounters;
  for (const id of ids) {
    if (!isUuid(id)) {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_encounter', `No encounter ${id}.`);
    }
  }

  const { rows } = await tx.query<{
    id: string;
    status: EncounterState['status'];
    admittedAt: Date | null;
    dischargedAt: Date | null;
  }>(
    `SELECT id, status::text AS status, admitted_at AS "admittedAt",
            discharged_at AS "dischargedAt"
       FROM encounter WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const stays = await tx.query<StayState & { id: string }>(
    `SELECT id::text AS id, encounter_id AS "encounterId", bed_id AS "bedId",
            start_at AS "startAt", end_at AS "endAt", end_reason AS "endReason"
       FROM bed_stay
      WHERE encounter_id = ANY($1::uuid[]) AND NOT cancelled
      ORDER BY start_at, id`,
    [ids],
  );
  for (const row of rows) {
    encounters.set(row.id, {
      ...row,
      stays: stays.rows.filter((stay) => stay.encounterId === row.id),
    });
  }
  return encounters;
}

/**
 * Locks the beds and loads them, with the department of each: the event is filed under the
 * department of the first bed it touches, read here rather than in a query of its own.
 */
async function loadBeds(tx: Tx, ids: number[]) {
  const beds = new Map<number, BedState>();
  const departmentOfBed = new Map<number, number>();
  if (ids.length === 0) return { beds, departmentOfBed };

  const { rows } = await tx.query<Omit<BedState, 'history'> & { departmentId: number }>(
    `SELECT b.id, b.status::text AS status, b.status_since AS since,
            b.status_reason AS reason, b.encounter_id AS "encounterId", b.isolation,
            r.department_id AS "departmentId"
       FROM bed b JOIN room r ON r.id = b.room_id
      WHERE b.id = ANY($1::int[]) ORDER BY b.id FOR UPDATE OF b`,
    [ids],
  );
  // The interval before the current one is all a cancel needs to restore.
  const previous = await tx.query<BedStatusInterval & { bedId: number }>(
    `SELECT DISTINCT ON (bed_id) bed_id AS "bedId", status::text AS status,
            start_at AS since, reason, encounter_id AS "encounterId"
       FROM bed_status_history
      WHERE bed_id = ANY($1::int[]) AND end_at IS NOT NULL
      ORDER BY bed_id, start_at DESC, id DESC`,
    [ids],
  );
  for (const { departmentId, ...row } of rows) {
    departmentOfBed.set(row.id, departmentId);
    const before = previous.rows.find((interval) => interval.bedId === row.id);
    beds.set(row.id, {
      ...row,
      history: before
        ? [
            {
              status: before.status,
              since: before.since,
              reason: before.reason,
              encounterId: before.encounterId,
            },
          ]
        : [],
    });
  }
  return { beds, departmentOfBed };
}

// ---- write -----------------------------------------------------------------------------------

async function writeChanges(tx: Tx, changes: readonly Change[]) {
  for (const change of changes) {
    switch (change.kind) {
      case 'open-stay':
        await tx.query(
          `INSERT INTO bed_stay (encounter_id, bed_id, start_at) VALUES ($1, $2, $3)`,
          [change.encounterId, change.bedId, change.at],
        );
        break;
      case 'close-stay':
        await tx.query(`UPDATE bed_stay SET end_at = $2, end_reason = $3 WHERE id = $1`, [
          change.stayId,
          change.at,
          change.reason,
        ]);
        break;
      case 'reopen-stay':
        await tx.query(`UPDATE bed_stay SET end_at = NULL, end_reason = NULL WHERE id = $1`, [
          change.stayId,
        ]);
        break;
      case 'cancel-stay':
        await tx.query(`UPDATE bed_stay SET cancelled = true WHERE id = $1`, [change.stayId]);
        break;
      case 'set-bed-status':
        await tx.query(
          `WITH closed AS (
             UPDATE bed_status_history SET end_at = $4
              WHERE bed_id = $1 AND end_at IS NULL),
           opened AS (
             INSERT INTO bed_status_history (bed_id, status, reason, encounter_id, start_at)
             VALUES ($1, $2::bed_status, $3, $5, $4))
           UPDATE bed SET status = $2::bed_status, status_reason = $3, status_since = $4,
                          encounter_id = $5
            WHERE id = $1`,
          [change.bedId, change.status, change.reason, change.at, change.encounterId],
        );
        break;
      case 'restore-bed-status':
        await restoreBedStatus(tx, change.bedId);
        break;
      case 'set-isolation':
        await tx.query(`UPDATE bed SET isolation = $2 WHERE id = $1`, [
          change.bedId,
          change.isolation,
        ]);
        break;
      case 'update-encounter':
        await tx.query(
          `UPDATE encounter SET status = $2::encounter_status, admitted_at = $3,
                                discharged_at = $4
            WHERE id = $1`,
          [change.encounterId, change.status, change.admittedAt, change.dischargedAt],
        );
        break;
    }
  }
}

/**
 * A cancel undoes a status change as if it never happened: the current interval is deleted
 * and the one before it is current again. The event log still records both the change and
 * its cancel, so nothing is lost for audit.
 */
async function restoreBedStatus(tx: Tx, bedId: number) {
  await tx.query(`DELETE FROM bed_status_history WHERE bed_id = $1 AND end_at IS NULL`, [bedId]);
  const { rows } = await tx.query<{
    id: string;
    status: string;
    reason: string | null;
    startAt: Date;
    encounterId: string | null;
  }>(
    `UPDATE bed_status_history SET end_at = NULL
      WHERE id = (SELECT id FROM bed_status_history WHERE bed_id = $1
                   ORDER BY start_at DESC, id DESC LIMIT 1)
      RETURNING id, status::text AS status, reason, start_at AS "startAt",
                encounter_id AS "encounterId"`,
    [bedId],
  );
  const previous = rows[0];
  if (!previous) throw new Error(`bed ${bedId} has no status to restore`);
  await tx.query(
    `UPDATE bed SET status = $2::bed_status, status_reason = $3, status_since = $4,
                    encounter_id = $5
      WHERE id = $1`,
    [bedId, previous.status, previous.reason, previous.startAt, previous.encounterId],
  );
}

function translateConstraintError(error: unknown): never {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError.code === '23P01') {
    throw new MedaxisError(
      ErrorCode.conflict,
      pgError.constraint === 'bed_stay_one_bed_per_encounter' ? 'encounter_overlap' : 'bed_overlap',
      pgError.constraint === 'bed_stay_one_bed_per_encounter'
        ? 'The encounter would lie in two beds at once.'
        : 'Another patient lies in this bed during that time.',
      { cause: error },
    );
  }
  throw error;
}

function touchedBeds(changes: readonly Change[]): number[] {
  const ids = new Set<number>();
  for (const change of changes) if ('bedId' in change) ids.add(change.bedId);
  return [...ids];
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUuid(value: string) {
  return uuidPattern.test(value);
}
