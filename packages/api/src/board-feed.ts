import { lastEventId, listDepartments, readEventsAfter, type Db } from '@medaxis/db';
import type { BedEventPayload, EventRow } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import { decideAccess, type Actor, type Purpose, type Roles } from '@medaxis/policy';
import type { ConsentPolicies } from '@medaxis/policy';
import { z } from 'zod';

import {
  boardIdentityOf,
  noIdentity,
  occupantsOf,
  prefetchOccupants,
  showsIdentity,
  withInitials,
  type BoardIdentity,
} from './board-identity.ts';
import type { BoardEvent } from './board-types.ts';
import type { Access } from './context.ts';
import { departmentCode, eventId } from './inputs.ts';

/*
 * The board feed's rules, shared by its two transports: tRPC's `board.events` (API clients,
 * tests) and the server's board stream for wall displays (apps/server/src/board-stream.ts).
 * Both resolve the same view, replay the same way and skip the same ids, so a board sees the
 * same events in the same order whichever way it listens.
 */

/** What a board asks for: one department or the whole hospital, and where to resume. */
export const boardFeedQuery = z
  .object({ department: departmentCode.optional(), lastEventId: eventId.optional() })
  .strict();
export type BoardFeedQuery = z.infer<typeof boardFeedQuery>;

/**
 * What one board shows: the departments (every one when `departments` is null, or these
 * codes), and of the patients in their beds what its access decision and their consent allow.
 */
export interface BoardView {
  /** Equal for boards that see the same events: they can share one encoding of each. */
  key: string;
  departments: ReadonlySet<string> | null;
  identity: BoardIdentity;
}

/** What an actor's board may show: departments and identity, or null when it may not watch. */
export interface BoardAccess {
  departments: Access['departments'];
  identity: BoardIdentity;
}

/**
 * The access decision for watching a board, for a transport that does not pass the tRPC
 * enforcement point (the board stream): the same `decideAccess`, with `board.read`.
 */
export function boardAccess(
  config: { roles: Roles; policies: ConsentPolicies },
  actor: Actor,
  purpose: Purpose,
  now: Date,
): BoardAccess | null {
  const decision = decideAccess({
    ...config,
    actor,
    permission: 'board.read',
    purpose,
    patientData: false,
    breakGlass: [],
    now,
  });
  if (!decision.allow) return null;
  return {
    departments: decision.departments,
    identity: boardIdentityOf(decision, config.policies),
  };
}

/**
 * The view a board gets: the department it asks for, within the departments its actor may
 * see. Throws FORBIDDEN before NOT_FOUND, so a refused board cannot learn which codes exist.
 * Without `identity` the board shows no patient identity at all.
 */
export async function resolveBoardView(
  db: Db,
  department: string | undefined,
  scope: Access['departments'],
  identity: BoardIdentity = noIdentity,
): Promise<BoardView> {
  const view = (key: string, departments: ReadonlySet<string> | null): BoardView => ({
    key: `${key}|${identity.key}`,
    departments,
    identity,
  });
  if (department === undefined) {
    if (scope === '*') return view('*', null);
    if (scope.length === 0) throw notInScope();
    return view([...scope].sort().join(','), new Set(scope));
  }

  if (scope !== '*' && !scope.includes(department)) throw notInScope();
  const departments = await listDepartments(db);
  if (!departments.some((d) => d.code === department)) {
    throw new MedaxisError(
      ErrorCode.notFound,
      'unknown_department',
      `No department ${department}.`,
    );
  }
  return view(department, new Set([department]));
}

function notInScope() {
  return new MedaxisError(ErrorCode.forbidden, 'department_not_in_scope', 'Not allowed.');
}

/**
 * Where a board stands in the event log. Every id at or below `last` was delivered or did not
 * concern the board; a replay and the live feed overlap, and each id passes only once.
 */
export class BoardCursor {
  last: bigint;

  constructor(last: string) {
    this.last = BigInt(last);
  }

  /**
   * Where a board resumes: after the id it names, or after the last committed event when it
   * names none. Call it after subscribing to the live feed, so nothing falls in between.
   */
  static async resume(db: Db, from: string | undefined): Promise<BoardCursor> {
    return new BoardCursor(from ?? (await lastEventId(db)));
  }

  /** True, moving on, when `id` is new to this board; false for one it is already past. */
  advance(id: string): boolean {
    return this.advanceTo(BigInt(id));
  }

  /** `advance` for an id already parsed: the live feed parses each event's id once. */
  advanceTo(next: bigint): boolean {
    if (next <= this.last) return false;
    this.last = next;
    return true;
  }
}

const replayPage = 500;

/**
 * The events after the cursor, from the log, a page at a time, oldest first, moving the cursor
 * past each: as the view shows the event (`presentBoardEvent`), or undefined when none of its
 * beds are in view.
 */
export async function* replayBoardEvents(
  db: Db,
  cursor: BoardCursor,
  view: BoardView,
): AsyncGenerator<PresentedEvent | undefined> {
  for (;;) {
    const page = await readEventsAfter(db, cursor.last.toString(), replayPage);
    if (showsIdentity(view.identity)) {
      prefetchOccupants(
        db,
        page.map((row) => ({ row, beds: toBoardEvent(row).beds })),
      );
    }
    for (const row of page) {
      if (!cursor.advance(row.id)) continue;
      yield await presentBoardEvent(db, row, view);
    }
    if (page.length < replayPage) return;
  }
}

const boardEvents = new WeakMap<object, BoardEvent>();

/**
 * The whole-hospital board event of an event row. Built once per row: the event hub hands the
 * same row to every listener of the instance.
 */
export function toBoardEvent(row: Omit<EventRow, 'departmentIds'>): BoardEvent {
  let event = boardEvents.get(row);
  if (!event) {
    const payload = row.payload as Partial<BedEventPayload>;
    event = {
      kind: 'event',
      id: row.id,
      type: row.type,
      occurredAt: row.occurredAt,
      recordedAt: row.recordedAt,
      beds: payload.beds ?? [],
    };
    boardEvents.set(row, event);
  }
  return event;
}

/** The part of an event a view shows, or undefined when it touches none of the view's beds. */
export function boardEventIn(event: BoardEvent, view: BoardView): BoardEvent | undefined {
  const departments = view.departments;
  if (!departments) return event;
  const beds = event.beds.filter((bed) => departments.has(bed.departmentCode));
  return beds.length > 0 ? { ...event, beds } : undefined;
}

/** An event as one board shows it, and the patients whose initials it shows. */
export interface PresentedEvent {
  event: BoardEvent;
  /**
   * Patients whose initials the event shows: delivering it is a read of them, audited
   * before it leaves (board-audit.ts). Empty on boards that show no identity.
   */
  patients: readonly string[];
}

/**
 * An event as one view shows it: its beds in the view's departments, with the initials the
 * view may show judged against consent now (so a revocation holds for every event delivered
 * after it, replayed or live); undefined when none of its beds are in view.
 */
export async function presentBoardEvent(
  db: Db,
  row: Omit<EventRow, 'departmentIds'>,
  view: BoardView,
  now: Date = new Date(),
): Promise<PresentedEvent | undefined> {
  const whole = toBoardEvent(row);
  const event = boardEventIn(whole, view);
  if (!event) return undefined;
  if (!showsIdentity(view.identity)) return { event, patients: [] };
  const occupants = await occupantsOf(db, row, whole.beds);
  const shown = withInitials(event.beds, occupants, view.identity, now);
  return {
    event: shown.beds === event.beds ? event : { ...event, beds: shown.beds },
    patients: shown.patients,
  };
}
