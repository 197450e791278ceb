import type { Queryable, Tx } from './pool.ts';

export const eventChannel = 'medaxis_events';

export interface EventInput {
  type: string;
  occurredAt: Date;
  source: string;
  departmentId: number | null;
  bedId: number | null;
  encounterId: string | null;
  payload: unknown;
}

export interface EventRow {
  id: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  source: string;
  departmentId: number | null;
  departmentIds: number[];
  payload: unknown;
}

/**
 * Appends an event and notifies listeners, inside the caller's transaction: the event commits
 * or vanishes with the change it describes. Call it last: the id comes from the counter row,
 * whose lock is held until commit, so ids commit in increasing order and a reader that has
 * seen id n can never later find an id below n (a plain sequence does not promise that).
 */
export async function appendEvent(tx: Tx, event: EventInput): Promise<string> {
  // The payload is read back by id: NOTIFY carries only the id, so its 8000-byte limit never
  // truncates anything. It is sent in the same statement as the insert, as it is queued until
  // commit anyway: one round trip less while the counter row is locked.
  const { rows } = await tx.query<{ id: string }>(
    `WITH next AS (
       UPDATE event_counter SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id),
     inserted AS (
       INSERT INTO event (id, type, occurred_at, source, department_id, bed_id, encounter_id,
                          payload)
       SELECT last_id, $1, $2, $3, $4, $5, $6, $7 FROM next
       RETURNING id::text AS id)
     SELECT id, pg_notify($8, id) FROM inserted`,
    [
      event.type,
      event.occurredAt,
      event.source,
      event.departmentId,
      event.bedId,
      event.encounterId,
      JSON.stringify(event.payload),
      eventChannel,
    ],
  );
  return rows[0]!.id;
}

const eventSelect = `
  SELECT id::text AS id, type,
         to_json(occurred_at)#>>'{}' AS "occurredAt",
         to_json(recorded_at)#>>'{}' AS "recordedAt",
         source, department_id AS "departmentId", payload
    FROM event`;

/** Events after `afterId`, oldest first, at most `limit`. */
export async function readEventsAfter(
  db: Queryable,
  afterId: string,
  limit = 1000,
): Promise<Omit<EventRow, 'departmentIds'>[]> {
  const { rows } = await db.query<Omit<EventRow, 'departmentIds'>>(
    // `event.id`, the bigint: a bare `id` here means the text output column, which sorts
    // "10" before "9" and so broke resume-by-id for reads spanning a new digit.
    `${eventSelect} WHERE event.id > $1::bigint ORDER BY event.id LIMIT $2`,
    [afterId, limit],
  );
  return rows;
}

export async function lastEventId(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT last_id::text AS id FROM event_counter WHERE id = 1`,
  );
  return rows[0]?.id ?? '0';
}
