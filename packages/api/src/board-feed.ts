import { lastEventId, listDepartments, readEventsAfter, type Db } from '@medaxis/db';
import type { BedEventPayload, EventRow } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import { z } from 'zod';

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

/** The departments one board shows: every one (`departments` null) or these codes. */
export interface BoardView {
  /** Equal for boards that see the same events: they can share one encoding of each. */
  key: string;
  departments: ReadonlySet<string> | null;
}

const wholeHospital: BoardView = { key: '*', departments: null };

/**
 * The view a board gets: the department it asks for, within the departments its actor may
 * see. Throws FORBIDDEN before NOT_FOUND, so a refused board cannot learn which codes exist.
 */
export async function resolveBoardView(
  db: Db,
  department: string | undefined,
  scope: Access['departments'],
): Promise<BoardView> {
  if (department === undefined) {
    if (scope === '*') return wholeHospital;
    if (scope.length === 0) throw notInScope();
    return { key: [...scope].sort().join(','), departments: new Set(scope) };
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
  return { key: department, departments: new Set([department]) };
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
    const next = BigInt(id);
    if (next <= this.last) return false;
    this.last = next;
    return true;
  }
}

const replayPage = 500;

/**
 * The events after the cursor, from the log, a page at a time, oldest first, moving the cursor
 * past each: with the view's part of the event, or undefined when none of its beds are in view.
 */
export async function* replayBoardEvents(
  db: Db,
  cursor: BoardCursor,
  view: BoardView,
): AsyncGenerator<BoardEvent | undefined> {
  for (;;) {
    const page = await readEventsAfter(db, cursor.last.toString(), replayPage);
    for (const row of page) {
      if (!cursor.advance(row.id)) continue;
      yield boardEventIn(toBoardEvent(row), view);
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
