import { lastEventId } from '@medaxis/db';
import { getSite, loadBoardBedsByDepartment, listDepartments, type BoardBedRow } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import { TRPCError, tracked } from '@trpc/server';
import { z } from 'zod';

import {
  boardFeedQuery,
  BoardCursor,
  presentBoardEvent,
  replayBoardEvents,
  resolveBoardView,
  type BoardView,
  type PresentedEvent,
} from './board-feed.ts';
import { auditBoardRead, type BoardWatcher } from './board-audit.ts';
import {
  boardIdentityOf,
  currentOccupants,
  showsIdentity,
  withInitials,
} from './board-identity.ts';
import type { BoardDepartment, BoardMessage, BoardSnapshot } from './board-types.ts';
import type { Context, FeedMessage } from './context.ts';
import { toTrpcError } from './errors.ts';
import { departmentCode } from './inputs.ts';
import { subscriberQueue } from './subscriber-queue.ts';
import { procedure, router } from './trpc.ts';

export const boardRouter = router({
  /** Every bed of the hospital (or one department) and the id of the last event included. */
  snapshot: procedure
    .meta({ permission: 'board.read' })
    .input(z.object({ department: departmentCode.optional() }).strict().optional())
    .query(async ({ ctx, input }): Promise<BoardSnapshot> => {
      // A wall display (or a ward's user) sees only the departments in its scope: asking for
      // another is refused before NOT_FOUND, so codes cannot be probed; the whole site narrows.
      // Codes match whatever their case (people type /board/icu), and the board answers with
      // the canonical code, which the web app then puts in the address.
      const scope = ctx.access.departments;
      const inScope = (code: string) => scope === '*' || scope.includes(code);
      const requested = input?.department;
      if (requested && scope !== '*' && !scope.some((code) => sameCode(code, requested))) {
        throw new MedaxisError(ErrorCode.forbidden, 'department_not_in_scope', 'Not allowed.');
      }

      // Read the event id first: an event committed while the beds are read is then replayed
      // to the subscriber rather than missed (applying it twice is harmless, it sets state).
      const last = await lastEventId(ctx.db);
      const departments = await listDepartments(ctx.db);
      const only = requested
        ? (
            departments.find((d) => d.code === requested) ??
            departments.find((d) => sameCode(d.code, requested))
          )?.code
        : undefined;
      if (requested && only === undefined) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `No department ${requested}.` });
      }
      // The scope check again, on the canonical code: a case-folded match above grants nothing.
      if (only && !inScope(only)) {
        throw new MedaxisError(ErrorCode.forbidden, 'department_not_in_scope', 'Not allowed.');
      }
      const [site, all] = await Promise.all([
        getSite(ctx.db),
        loadBoardBedsByDepartment(ctx.db, only),
      ]);
      const rows = scope === '*' ? all : all.filter((bed) => inScope(bed.departmentCode));
      // Initials where this board's decision and each patient's consent allow, as of now:
      // the patients shown are reported, so the enforcement point audits the read of them.
      const now = ctx.now();
      const identity = boardIdentityOf(ctx.access.decision, ctx.policies);
      let beds = rows;
      if (showsIdentity(identity)) {
        const shown = withInitials(rows, await currentOccupants(ctx.db, rows, now), identity, now);
        beds = shown.beds;
        ctx.access.touch(shown.patients);
      }
      return {
        site: site
          ? { code: site.code, name: site.name, timeZone: site.timeZone }
          : { code: 'MEDAXIS', name: 'MedAxis', timeZone: 'UTC' },
        departments: groupBeds(
          departments.filter((d) => inScope(d.code)),
          beds,
          only,
        ),
        lastEventId: last,
        serverTime: ctx.now().toISOString(),
      };
    }),

  /**
   * Board events from `lastEventId` on: the missed ones from the event log first, then live
   * ones as they commit, each exactly once and in order, with a heartbeat when idle. Wall
   * displays get the same feed from the server's board stream (board-feed.ts holds the rules
   * both follow).
   */
  events: procedure
    .meta({ permission: 'board.read' })
    .input(boardFeedQuery.optional())
    .subscription(async function* ({ ctx, input, signal }) {
      let view: BoardView;
      try {
        view = await resolveBoardView(
          ctx.db,
          input?.department,
          ctx.access.departments,
          boardIdentityOf(ctx.access.decision, ctx.policies),
        );
      } catch (error) {
        // Thrown inside a subscription, it would reach the client as an internal error.
        throw toTrpcError(error);
      }

      // Listen before reading the log, so nothing falls between the replay and live events.
      const queue = subscriberQueue<FeedMessage>(signal);
      const stop = ctx.feed.subscribe(queue.push);
      try {
        const cursor = await BoardCursor.resume(ctx.db, input?.lastEventId);

        // An event that shows initials leaves once the read of those patients is audited.
        const watcher: BoardWatcher = {
          actor: ctx.access.actor,
          purpose: ctx.access.purpose,
          requestId: ctx.requestId,
          clientAddress: ctx.clientAddress,
        };
        const deliver = async (shown: PresentedEvent) => {
          await auditBoardRead(ctx.audit, watcher, 'board.events', shown.patients);
          return tracked(shown.event.id, shown.event as BoardMessage);
        };

        for await (const shown of replayBoardEvents(ctx.db, cursor, view)) {
          if (shown) yield await deliver(shown);
        }

        for await (const message of queue) {
          if (message.kind === 'heartbeat') {
            yield { kind: 'heartbeat', serverTime: message.at.toISOString() };
            continue;
          }
          if (!cursor.advance(message.event.id)) continue;
          const shown = await presentBoardEvent(ctx.db, message.event, view);
          if (shown) yield await deliver(shown);
        }
      } finally {
        stop();
      }
    }),
});

/** Department codes compare without case: ICU, icu and Icu are one department. */
function sameCode(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/**
 * The snapshot's department → room → bed tree, in the departments' display order. The whole
 * hospital's board leaves out departments that have no beds.
 */
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
  const grouped = [...byDepartment.values()];
  // A wall display shows beds: a department without any (a clinic an import named) would be
  // an empty card taking a page of a screen that pages on a timer. Its own board still
  // answers, with no rooms, so that board can say the department has no beds.
  return only ? grouped : grouped.filter((department) => department.rooms.length > 0);
}

export type { Context };
