import type { Queryable } from '@medaxis/db';

import { eventsByVisit, type DemoEvent, type DemoRow } from './demo-transfers.ts';

export interface ReplayedEvent extends DemoEvent {
  ref: string;
  type: string;
  occurredAt: Date;
}

/**
 * The replay's admits, transfers and discharges of one run, in event-log order, each paired
 * with the history event it plays: the k-th event of a visit plays the visit's k-th event
 * in transfers.csv.
 */
export async function readReplayedEvents(
  db: Queryable,
  run: string,
  rows: DemoRow[],
): Promise<ReplayedEvent[]> {
  const { rows: logged } = await db.query<{ ref: string; type: string; occurredAt: Date }>(
    `SELECT e.source_ref AS ref, v.type, v.occurred_at AS "occurredAt"
       FROM event v JOIN encounter e ON e.id = v.encounter_id
      WHERE v.source = 'replay' AND v.type IN ('admit', 'transfer', 'discharge')
        AND e.source_system = 'mimic-replay' AND e.source_ref LIKE $1 || '/%'
      ORDER BY v.id`,
    [run],
  );
  const history = eventsByVisit(rows);
  const seen = new Map<string, number>();
  return logged.map((event) => {
    const ref = event.ref.slice(run.length + 1);
    const index = seen.get(ref) ?? 0;
    seen.set(ref, index + 1);
    const played = history.get(ref)?.[index];
    if (!played) throw new Error(`replayed event ${index} of ${ref} is not in transfers.csv`);
    return { ...played, ref, type: event.type, occurredAt: event.occurredAt };
  });
}
