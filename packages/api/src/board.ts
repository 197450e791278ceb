import { lastEventId, readEventsAfter, type BedEventPayload, type EventRow } from '@medaxis/db';
import { getSite, loadBoardBedsByDepartment, listDepartments, type BoardBedRow } from '@medaxis/db';
import { TRPCError, tracked } from '@trpc/server';
import { z } from 'zod';

import type { BoardDepartment, BoardEvent, BoardMessage, BoardSnapshot } from './board-types.ts';
import type { Context, FeedMessage } from './context.ts';
import { departmentCode, eventId } from './inputs.ts';
import { subscriberQueue } from './subscriber-queue.ts';
import { procedure, router } from './trpc.ts';

const replayPage = 500;

export const boardRouter = router({
  /** Every bed of the hospital (or one department) and the id of the last event included. */
  snapshot: procedure
    .meta({ permission: 'board.read' })
    .input(z.object({ department: departmentCode.optional() }).strict().optional())
    .query(async ({ ctx, input }): Promise<BoardSnapshot> => {
      // Read the event id first: an event committed while the beds are read is then replayed
      // to the subscriber rather than missed (applying it twice is harmless, it sets state).
      const last = await lastEventId(ctx.db);
      const [site, departments, beds] = await Promise.all([
        getSite(ctx.db),
        listDepartments(ctx.db),
        loadBoardBedsByDepartment(ctx.db, input?.department),
      ]);
      if (input?.department && !departments.some((d) => d.code === input.department)) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `No department ${input.department}.` });
      }
      return {
        site: site
          ? { code: site.code, name: site.name, timeZone: site.timeZone }
          : { code: 'MEDAXIS', name: 'MedAxis', timeZone: 'UTC' },
        departments: groupBeds(departments, beds, input?.department),
        lastEventId: last,
        serverTime: ctx.now().toISOString(),
      };
    }),

  /**
   * Board events from `lastEventId` on: the missed ones from the event log first, then live
   * ones as they commit, each exactly once and in order, with a heartbeat when idle.
   */
  events: procedure
    .meta({ permission: 'board.read' })
    .input(
      z
        .object({ department: departmentCode.optional(), lastEventId: eventId.optional() })
        .strict()
        .optional(),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const department = input?.department;
      // Listen before reading the log, so nothing falls between the replay and live events.
      const queue = subscriberQueue<FeedMessage>(signal);
      const stop = ctx.feed.subscribe(queue.push);
      try {
        let last = BigInt(input?.lastEventId ?? (await lastEventId(ctx.db)));

        for (;;) {
          const page = await readEventsAfter(ctx.db, last.toString(), replayPage);
          for (const row of page) {
            last = BigInt(row.id);
            const event = toBoardEvent(row, department);
            if (event) yield tracked(event.id, event as BoardMessage);
          }
          if (page.length < replayPage) break;
        }

        for await (const message of queue) {
          if (message.kind === 'heartbeat') {
            yield { kind: 'heartbeat', serverTime: message.at.toISOString() };
            continue;
          }
          const id = BigInt(message.event.id);
          if (id <= last) continue;
          last = id;
          const event = toBoardEvent(message.event, department);
          if (event) yield tracked(event.id, event as BoardMessage);
        }
      } finally {
        stop();
      }
    }),
});

const boardEvents = new WeakMap<object, BoardEvent>();

/**
 * The board view of an event, or undefined when it touches no bed of the department. The
 * whole-hospital view is built once per event and shared by every subscriber.
 */
function toBoardEvent(
  row: Omit<EventRow, 'departmentIds'>,
  department: string | undefined,
): BoardEvent | undefined {
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
  if (!department) return event;
  const beds = event.beds.filter((bed) => bed.departmentCode === department);
  return beds.length > 0 ? { ...event, beds } : undefined;
}

function groupBeds(
  departments: Awaited<ReturnType<typeof listDepartments>>,
  beds: BoardBedRow[],
  only: string | undefined,
): BoardDepartment[] {
  const byDepartment = new Map<string, BoardDepartment>();
  for (const department of departments) {
    if (only && department.code !== only) continue;
    byDepartment.set(department.code, { ...department, rooms: [] });
  }
  for (const bed of beds) {
    const department = byDepartment.get(bed.departmentCode);
    if (!department) continue;
    let room = department.rooms.at(-1);
    if (room?.code !== bed.roomCode) {
      room = { code: bed.roomCode, beds: [] };
      department.rooms.push(room);
    }
    room.beds.push(bed);
  }
  return [...byDepartment.values()];
}

export type { Context };
