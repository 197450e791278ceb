import type { Actor, Purpose } from '@medaxis/policy';

import type { AuditSink } from './context.ts';
import { auditActor } from './trpc.ts';

/*
 * A board that shows initials reads patient data: each snapshot, replayed event and live event
 * that puts a patient's initials on a screen is audited as a read of that patient, like any
 * other (security issue, item 7), and the frame leaves only once its row is committed. Boards
 * that show no identity read none and write no rows. The snapshot is audited by the tRPC
 * enforcement point (it reports the patients it showed); the feeds, which leave through no
 * procedure call per event, here.
 */

/** Who watches a board, as its audit rows name them. */
export interface BoardWatcher {
  actor: Actor;
  purpose: Purpose;
  /** The subscription's or the socket's request id: one board's rows share it. */
  requestId: string;
  clientAddress: string | null;
}

/** Where a board's feed reached it: tRPC's `board.events` or the wall displays' stream. */
export type BoardFeedOperation = 'board.events' | 'board.stream';

/**
 * Records that `watcher`'s board was shown the initials of `patients`; resolves once the row
 * is committed. Nothing is written (and it resolves at once) when the list is empty.
 */
export function auditBoardRead(
  audit: AuditSink,
  watcher: BoardWatcher,
  operation: BoardFeedOperation,
  patients: readonly string[],
): Promise<unknown> {
  if (patients.length === 0) return Promise.resolve();
  return audit.record({
    source: 'api',
    operation,
    action: 'read',
    actor: auditActor(watcher.actor),
    purpose: watcher.purpose,
    resourceType: 'patient',
    resourceId: [...patients].sort()[0] ?? null,
    patientIds: patients,
    outcome: 'allowed',
    reason: null,
    requestId: watcher.requestId,
    clientAddress: watcher.clientAddress,
  });
}
