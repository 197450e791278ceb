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

import { boardBedsStatement, type BoardBedRow } from './board.ts';
import { appendEvent, type EventInput } from './events.ts';
import {
  bind,
  prepared,
  queryStatements,
  withTransaction,
  type Db,
  type BoundStatement,
  type Statement,
  type Tx,
} from './pool.ts';

export interface CommandContext {
  /** Where the command came from: ui, api, hl7, fhir, import:mimic, replay, simulator... */
  source: string;
  options: DecideOptions;
  /** Runs first in the command's transaction, e.g. to create the encounter an admit needs. */
  prepare?: (tx: Tx) => Promise<void>;
  /**
   * The audit trail of a batch source (seed, simulator, replay): after the commit, a command
   * that moves or places patients is recorded as the system's write of its encounters'
   * patients (`defer`: the source flushes at its end). The API audits in its enforcement
   * point and HL7 in its processor, so they pass none.
   */
  audit?: CommandAuditSink | undefined;
}

/** The part of packages/audit's AuditWriter a batch source hands to executeCommand. */
export interface CommandAuditSink {
  defer(event: {
    source: string;
    operation: string;
    action: 'write';
    actor: { kind: 'system'; id: 'system'; roles: readonly string[] };
    purpose: 'operations';
    resourceType: 'encounter';
    resourceId: string;
    encounterIds: readonly string[];
    outcome: 'allowed';
  }): void;
}

/**
 * Records a batch source's committed write of these encounters' patients as the system's
 * (nothing when it names no encounter). Commands outside executeCommand (an admit decision)
 * use it too, so every write of a batch source leaves the same row.
 */
export function deferCommandAudit(
  audit: CommandAuditSink,
  source: string,
  type: string,
  encounterIds: readonly string[],
): void {
  if (encounterIds.length === 0) return;
  audit.defer({
    source,
    operation: `command.${type}`,
    action: 'write',
    actor: { kind: 'system', id: 'system', roles: ['system'] },
    purpose: 'operations',
    resourceType: 'encounter',
    resourceId: encounterIds[0]!,
    encounterIds,
    outcome: 'allowed',
  });
}

/** The encounters a command names: whose patients it writes about. */
export function encountersOf(command: Command): string[] {
  switch (command.type) {
    case 'swap':
      return [command.encounterId, command.otherEncounterId];
    case 'admit':
    case 'transfer':
    case 'discharge':
    case 'cancel-admit':
    case 'cancel-transfer':
    case 'cancel-discharge':
    case 'reserve':
      return [command.encounterId];
    case 'cleaning-started':
    case 'cleaning-finished':
    case 'block':
    case 'unblock':
    case 'release':
    case 'set-isolation':
      return [];
  }
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
  let applied: Command | undefined;
  const result = await withTransaction(db, async (tx) => {
    await context.prepare?.(tx);
    // A command may need rows created in its own transaction first (a new encounter to admit).
    const command =
      typeof commandOrBuild === 'function' ? await commandOrBuild(tx) : commandOrBuild;
    applied = command;
    return applyCommand(tx, command, context);
  });

  if (context.audit && applied) {
    deferCommandAudit(context.audit, context.source, applied.type, encountersOf(applied));
  }
  return result;
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
  const { event, beds } = await stageCommand(tx, command, context);
  return { eventId: await appendEvent(tx, event), beds };
}

/** A command written but its event not yet appended (see stageCommand). */
export interface StagedCommand {
  event: EventInput;
  beds: BoardBedRow[];
}

/**
 * applyCommand without appending the event: the caller appends the events of everything it
 * staged in the transaction at once, in order, just before COMMIT (appendEventsStatement).
 * The event counter's lock, which orders ids across transactions, is then held for that one
 * round trip instead of from the first command to the commit: a transaction that applies
 * many commands (the HL7 feed's batches) does not stall every other writer meanwhile.
 *
 * `loaded`: the slice of the world the caller has just locked and read in this transaction
 * with statements of its own (the HL7 feed, with its lookup: visitWorldStatements), used when
 * it holds everything the command touches and nothing was written since; else it is loaded.
 */
export async function stageCommand(
  tx: Tx,
  command: Command,
  context: Pick<CommandContext, 'source' | 'options'>,
  loaded?: LoadedWorld,
): Promise<StagedCommand> {
  const { world, departmentOfBed } =
    loaded && holdsCommand(loaded, command) ? loaded : await loadWorld(tx, command);
  const changes = decide(world, command, context.options);

  const bedIds = touchedBeds(changes);
  const beds = await writeChanges(tx, changes, bedIds).catch(translateConstraintError);
  const encounterId = 'encounterId' in command ? command.encounterId : null;
  const event: EventInput = {
    type: command.type,
    occurredAt: command.at,
    source: context.source,
    departmentId: bedIds[0] === undefined ? null : (departmentOfBed.get(bedIds[0]) ?? null),
    bedId: bedIds[0] ?? null,
    encounterId,
    payload: { command, beds } satisfies BedEventPayload,
  };
  return { event, beds };
}

// ---- load ------------------------------------------------------------------------------------

/**
 * Loads and locks the encounters, then the beds, a command touches, each in id order so that
 * concurrent commands queue instead of deadlocking. Many admits into one bed serialize on the
 * bed row: the first wins, the others then see it occupied. One round trip of four
 * statements, each reading what the one before it waited for: lock the encounters, read their
 * stays, lock the beds (the command's and those of each encounter's last two stays, which
 * cover every bed a transfer, discharge or cancel can touch), read the beds' history.
 */
async function loadWorld(tx: Tx, command: Command): Promise<LoadedWorld> {
  const encounterIds = commandEncounterIds(command);
  for (const id of encounterIds) {
    if (!isUuid(id)) {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_encounter', `No encounter ${id}.`);
    }
  }
  const commandBeds = 'bedId' in command ? [command.bedId] : [];

  const [lockedEncounters, stays, lockedBeds, previous] = await queryStatements(tx, [
    bind(lockEncounters, [encounterIds]),
    bind(readStays, [encounterIds]),
    bind(lockBeds, [encounterIds, commandBeds]),
    bind(readBedsPreviousStatus, [encounterIds, commandBeds]),
  ]);
  return assembleWorld(lockedEncounters!.rows, stays!.rows, lockedBeds!.rows, previous!.rows);
}

/** The slice of the world a command decides on, locked, with the department of each bed. */
export interface LoadedWorld {
  world: World;
  departmentOfBed: Map<number, number>;
}

/** The encounters a command decides on, sorted (the order they are locked in). */
function commandEncounterIds(command: Command): string[] {
  const ids = [
    'encounterId' in command ? command.encounterId : undefined,
    command.type === 'swap' ? command.otherEncounterId : undefined,
  ].filter((id): id is string => id !== undefined);
  return [...new Set(ids)].sort();
}

/** Whether a loaded slice holds every encounter and bed the command names. */
function holdsCommand({ world }: LoadedWorld, command: Command): boolean {
  return (
    commandEncounterIds(command).every((id) => world.encounters.has(id)) &&
    (!('bedId' in command) || world.beds.has(command.bedId))
  );
}

/**
 * The world from the rows of the four loads (loadWorld's or visitWorldStatements'): the
 * locked encounters, their stays, the locked beds with their departments, and each bed's
 * interval before its current one.
 */
function assembleWorld(
  encounterRows: readonly unknown[],
  stayRows: readonly unknown[],
  bedRows: readonly unknown[],
  previousRows: readonly unknown[],
): LoadedWorld {
  const stays = stayRows as (StayState & { id: string; encounterId: string })[];
  const previous = previousRows as (BedStatusInterval & { bedId: number })[];
  const encounters = new Map<string, EncounterState>();
  for (const row of encounterRows as Omit<EncounterState, 'stays'>[]) {
    encounters.set(row.id, {
      id: row.id,
      status: row.status,
      admittedAt: row.admittedAt,
      dischargedAt: row.dischargedAt,
      stays: stays.filter((stay) => stay.encounterId === row.id),
    });
  }
  const beds = new Map<number, BedState>();
  const departmentOfBed = new Map<number, number>();
  for (const { departmentId, ...row } of bedRows as (Omit<BedState, 'history'> & {
    departmentId: number;
  })[]) {
    departmentOfBed.set(row.id, departmentId);
    const before = previous.find((interval) => interval.bedId === row.id);
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
  return { world: { beds, encounters }, departmentOfBed };
}

/**
 * loadWorld's loads for a feed's visit, by the sender's visit number instead of an encounter
 * id, to send in the round trip that looks the visit up (packages/db hl7.ts): the visit's
 * stays, then its beds and the bed `bedCode` names locked (as loadWorld, in id order) and
 * their previous intervals. Send them after the statement that locks the visit; read the
 * answers, with the visit's row, with readVisitWorld.
 */
export function visitWorldStatements(
  visit: { sourceSystem: string; sourceRef: string },
  bedCode: string | null,
): BoundStatement[] {
  const params = [visit.sourceSystem, visit.sourceRef, bedCode];
  return [
    bind(readVisitStays, params.slice(0, 2)),
    bind(lockVisitBeds, params),
    bind(readVisitBedsPreviousStatus, params),
  ];
}

/** The world from the visit's row (status, admittedAt, dischargedAt) and visitWorldStatements'. */
export function readVisitWorld(
  visitRows: readonly unknown[],
  results: readonly { rows: unknown[] }[],
): LoadedWorld {
  const [stays, beds, previous] = results;
  return assembleWorld(visitRows, stays?.rows ?? [], beds?.rows ?? [], previous?.rows ?? []);
}

/**
 * The beds a command touches, as a statement computes them once the encounters ($1) are
 * locked: the command's own ($2) and those of each encounter's last two stays, which cover
 * every bed a transfer, discharge or cancel can touch. The history's statement repeats it,
 * and sees the same stays (only a holder of those locks moves them).
 */
const touchedBedIds = `(ARRAY(SELECT unnest($2::int[]) UNION
    SELECT s.bed_id FROM unnest($1::uuid[]) AS e(id)
      CROSS JOIN LATERAL (SELECT bed_id FROM bed_stay
                           WHERE encounter_id = e.id AND NOT cancelled
                           ORDER BY start_at DESC, bed_stay.id DESC LIMIT 2) s))`;

const lockEncounters = prepared(
  'command_lock_encounters',
  `SELECT id, status::text AS status, admitted_at AS "admittedAt",
          discharged_at AS "dischargedAt"
     FROM encounter WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
);

/** The stays (not cancelled) of the encounters `encounters` (an SQL expression) names. */
function staysOf(encounters: string) {
  return `SELECT id::text AS id, encounter_id AS "encounterId", bed_id AS "bedId",
                 start_at AS "startAt", end_at AS "endAt", end_reason AS "endReason"
            FROM bed_stay
           WHERE encounter_id = ANY(${encounters}) AND NOT cancelled
           ORDER BY start_at, bed_stay.id`;
}

const readStays = prepared('command_read_stays', staysOf('$1::uuid[]'));

/** The beds `bedIds` (an SQL array) names, locked in id order, with their departments. */
function lockBedsOf(bedIds: string) {
  return `SELECT b.id, b.status::text AS status, b.status_since AS since,
                 b.status_reason AS reason, b.encounter_id AS "encounterId", b.isolation,
                 r.department_id AS "departmentId"
            FROM bed b JOIN room r ON r.id = b.room_id
           WHERE b.id = ANY${bedIds} ORDER BY b.id FOR UPDATE OF b`;
}

const lockBeds = prepared('command_lock_beds', lockBedsOf(touchedBedIds));

/**
 * The interval before each bed's current one (the latest closed one): all a cancel needs to
 * restore. Read per bed from the newest back, two intervals or so whatever the bed's history.
 */
function previousStatusOf(bedIds: string) {
  return `SELECT h.bed_id AS "bedId", h.status::text AS status, h.start_at AS since, h.reason,
                 h.encounter_id AS "encounterId"
            FROM unnest(${bedIds}) AS t(bed_id)
           CROSS JOIN LATERAL (
             SELECT * FROM bed_status_history h
              WHERE h.bed_id = t.bed_id AND h.end_at IS NOT NULL
              ORDER BY h.start_at DESC, h.id DESC LIMIT 1) h`;
}

const readBedsPreviousStatus = prepared(
  'command_read_beds_previous_status',
  previousStatusOf(touchedBedIds),
);

/** The encounter a sender's visit number names: $1 the sending system, $2 the number. */
const visitEncounter = `(SELECT id FROM encounter WHERE source_system = $1 AND source_ref = $2)`;

/** touchedBedIds for a visit: the bed PV1-3 names ($3, a code) and the visit's last two. */
const touchedVisitBedIds = `(ARRAY(SELECT id FROM bed WHERE code = $3 UNION
    (SELECT bed_id FROM bed_stay WHERE encounter_id = ${visitEncounter} AND NOT cancelled
      ORDER BY start_at DESC, bed_stay.id DESC LIMIT 2)))`;

const readVisitStays = prepared('command_read_visit_stays', staysOf(`ARRAY${visitEncounter}`));

const lockVisitBeds = prepared('command_lock_visit_beds', lockBedsOf(touchedVisitBedIds));

const readVisitBedsPreviousStatus = prepared(
  'command_read_visit_beds_previous_status',
  previousStatusOf(touchedVisitBedIds),
);

// ---- write -----------------------------------------------------------------------------------

/**
 * Writes the changes in order and reads the touched beds as boards show them, all in one
 * round trip: each change is a statement of its own (as if sent one by one), and the first
 * that fails abandons the rest, which the caller's rollback then undoes.
 */
async function writeChanges(
  tx: Tx,
  changes: readonly Change[],
  bedIds: readonly number[],
): Promise<BoardBedRow[]> {
  const statements: Statement[] = [];
  const restores: { bedId: number; statement: number }[] = [];
  for (const change of changes) {
    switch (change.kind) {
      case 'open-stay':
        statements.push(bind(openStay, [change.encounterId, change.bedId, change.at]));
        break;
      case 'close-stay':
        statements.push(bind(closeStay, [change.stayId, change.at, change.reason]));
        break;
      case 'reopen-stay':
        statements.push(bind(reopenStay, [change.stayId]));
        break;
      case 'cancel-stay':
        statements.push(bind(cancelStay, [change.stayId]));
        break;
      case 'set-bed-status':
        statements.push(
          bind(setBedStatus, [
            change.bedId,
            change.status,
            change.reason,
            change.at,
            change.encounterId,
          ]),
        );
        break;
      case 'restore-bed-status':
        statements.push(...restoreBedStatus.map((statement) => bind(statement, [change.bedId])));
        restores.push({ bedId: change.bedId, statement: statements.length - 2 });
        break;
      case 'set-isolation':
        statements.push(bind(setIsolation, [change.bedId, change.isolation]));
        break;
      case 'update-encounter':
        statements.push(
          bind(updateEncounter, [
            change.encounterId,
            change.status,
            change.admittedAt,
            change.dischargedAt,
          ]),
        );
        break;
    }
  }
  if (bedIds.length > 0) statements.push(boardBedsStatement(bedIds));

  const results = await queryStatements(tx, statements);
  for (const restore of restores) {
    if (results[restore.statement]?.rowCount !== 1) {
      throw new Error(`bed ${restore.bedId} has no status to restore`);
    }
  }
  return bedIds.length > 0 ? (results.at(-1)!.rows as BoardBedRow[]) : [];
}

const openStay = prepared(
  'command_open_stay',
  `INSERT INTO bed_stay (encounter_id, bed_id, start_at) VALUES ($1, $2, $3)`,
);

const closeStay = prepared(
  'command_close_stay',
  `UPDATE bed_stay SET end_at = $2, end_reason = $3 WHERE id = $1`,
);

const reopenStay = prepared(
  'command_reopen_stay',
  `UPDATE bed_stay SET end_at = NULL, end_reason = NULL WHERE id = $1`,
);

const cancelStay = prepared(
  'command_cancel_stay',
  `UPDATE bed_stay SET cancelled = true WHERE id = $1`,
);

const setBedStatus = prepared(
  'command_set_bed_status',
  `WITH closed AS (
     UPDATE bed_status_history SET end_at = $4
      WHERE bed_id = $1 AND end_at IS NULL),
   opened AS (
     INSERT INTO bed_status_history (bed_id, status, reason, encounter_id, start_at)
     VALUES ($1, $2::bed_status, $3, $5, $4))
   UPDATE bed SET status = $2::bed_status, status_reason = $3, status_since = $4,
                  encounter_id = $5
    WHERE id = $1`,
);

const setIsolation = prepared(
  'command_set_isolation',
  `UPDATE bed SET isolation = $2 WHERE id = $1`,
);

const updateEncounter = prepared(
  'command_update_encounter',
  `UPDATE encounter SET status = $2::encounter_status, admitted_at = $3, discharged_at = $4
    WHERE id = $1`,
);

/**
 * A cancel undoes a status change as if it never happened: the current interval is deleted
 * and the one before it is current again. The event log still records both the change and
 * its cancel, so nothing is lost for audit. Three statements (each on the bed, $1), each
 * seeing the one before; the second must reopen exactly one interval (the caller checks).
 */
const restoreBedStatus = [
  prepared(
    'command_restore_bed_status_delete',
    `DELETE FROM bed_status_history WHERE bed_id = $1 AND end_at IS NULL`,
  ),
  prepared(
    'command_restore_bed_status_reopen',
    `UPDATE bed_status_history SET end_at = NULL
      WHERE id = (SELECT id FROM bed_status_history WHERE bed_id = $1
                   ORDER BY start_at DESC, id DESC LIMIT 1)`,
  ),
  prepared(
    'command_restore_bed_status_set',
    `UPDATE bed b
        SET status = h.status, status_reason = h.reason, status_since = h.start_at,
            encounter_id = h.encounter_id
       FROM bed_status_history h
      WHERE b.id = $1 AND h.bed_id = $1 AND h.end_at IS NULL`,
  ),
];

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
