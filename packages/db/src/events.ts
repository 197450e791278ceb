import { bind, prepared, type BoundStatement, type Queryable, type Tx } from './pool.ts';

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
  // The notification carries the event as listeners read it (`eventSelect`'s columns), so a
  // server's hub need not read it back; one too large for NOTIFY's 8000 bytes carries its id
  // alone and is read by id, so nothing is ever truncated. Sent in the same statement as the
  // insert, as it is queued until commit anyway: one round trip less while the counter row is
  // locked.
  const { rows } = await tx.query<{ id: string }>(
    `WITH next AS (
       UPDATE event_counter SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id),
     inserted AS (
       INSERT INTO event (id, type, occurred_at, source, department_id, bed_id, encounter_id,
                          payload)
       SELECT last_id, $1, $2, $3, $4, $5, $6, $7 FROM next
       RETURNING *),
     notice AS (SELECT id::text AS id, ${eventJson('inserted')}::text AS body FROM inserted)
     SELECT id, pg_notify($8, CASE WHEN octet_length(body) <= ${maxNoticeBytes} THEN body
                                   ELSE id END)
       FROM notice`,
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

/**
 * Appends events in the given order as one plain statement (for the simple query protocol,
 * with other statements and COMMIT in one round trip): the counter moves once by their
 * number, and one notification names the last id (the hub reads every event after the last
 * it delivered, so one is enough). Returns one row, `ids`: the new ids in order. As with
 * appendEvent, run it last: the counter row stays locked until commit.
 */
export function appendEventsStatement(events: readonly EventInput[]): BoundStatement {
  const rows = events.map((event) => ({
    type: event.type,
    occurredAt: event.occurredAt.toISOString(),
    source: event.source,
    departmentId: event.departmentId,
    bedId: event.bedId,
    encounterId: event.encounterId,
    payload: event.payload,
  }));
  return bind(appendEvents, [JSON.stringify(rows), events.length, eventChannel]);
}

const appendEvents = prepared(
  'events_append',
  `WITH next AS (
     UPDATE event_counter SET last_id = last_id + $2::int WHERE id = 1 RETURNING last_id),
   inserted AS (
     INSERT INTO event (id, type, occurred_at, source, department_id, bed_id, encounter_id,
                        payload)
     SELECT next.last_id - $2::int + e.ordinality, e.value->>'type',
            (e.value->>'occurredAt')::timestamptz, e.value->>'source',
            (e.value->>'departmentId')::int, (e.value->>'bedId')::int,
            (e.value->>'encounterId')::uuid, e.value->'payload'
       FROM next, jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ordinality)
     RETURNING id)
   SELECT array_agg(id::text ORDER BY id) AS ids, pg_notify($3::text, max(id)::text)
     FROM inserted`,
);

const eventSelect = `
  SELECT id::text AS id, type,
         to_json(occurred_at)#>>'{}' AS "occurredAt",
         to_json(recorded_at)#>>'{}' AS "recordedAt",
         source, department_id AS "departmentId", payload
    FROM event`;

/** An event row of `alias` as JSON with `eventSelect`'s columns: what a notification carries. */
function eventJson(alias: string): string {
  return `json_build_object(
    'id', ${alias}.id::text, 'type', ${alias}.type,
    'occurredAt', to_json(${alias}.occurred_at)#>>'{}',
    'recordedAt', to_json(${alias}.recorded_at)#>>'{}',
    'source', ${alias}.source, 'departmentId', ${alias}.department_id,
    'payload', ${alias}.payload)`;
}

/** NOTIFY takes payloads below 8000 bytes; a larger event's notification carries its id. */
const maxNoticeBytes = 7_900;

/**
 * What an event notification says: the event itself (as `readEventsAfter` returns it), or only
 * its id when the event was too large to carry (or appended in a batch, whose notification
 * names the batch's last id).
 */
export function parseEventNotice(
  payload: string | undefined,
): { id: string; event?: Omit<EventRow, 'departmentIds'> } | null {
  if (!payload) return null;
  if (/^\d+$/.test(payload)) return { id: payload };
  try {
    const event = JSON.parse(payload) as Omit<EventRow, 'departmentIds'>;
    return typeof event.id === 'string' ? { id: event.id, event } : null;
  } catch {
    return null;
  }
}

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
