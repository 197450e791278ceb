import type { ConsentRecord } from '@medaxis/policy';

import { prepared, queryPrepared, type Queryable } from './pool.ts';

/** Who lay in a bed at an instant, with what a board may show of them once policy allows. */
export interface BoardOccupant {
  bedId: number;
  patientId: string;
  /** Given and family name initials, null when the identity has no names. */
  initials: string | null;
  /** Every consent record of the patient: packages/policy decides what is in effect. */
  consent: ConsentRecord[];
}

/** One question: who lay in these beds at this instant (an event's time, or now). */
export interface OccupantQuery {
  /** The caller's name for the question, e.g. an event id. */
  key: string;
  bedIds: readonly number[];
  at: Date | string;
}

/**
 * The patients lying in the beds of each query at its instant (from the bed stays, so an old
 * event finds the patient of its time), with initials and consent records, for any number of
 * queries in one round trip: a replayed page of events costs one read. Keyed by query key,
 * then bed id.
 *
 * This is the boards' one read of identity, and it reads initials only. It is shared by every
 * board of the instance (one read per event, however many boards watch), so it cannot take one
 * board's row filter: packages/api board-identity applies each board's decision (consent,
 * field mask) to the result before anything leaves the server.
 */
export async function loadBoardOccupants(
  db: Queryable,
  queries: readonly OccupantQuery[],
): Promise<Map<string, Map<number, BoardOccupant>>> {
  const result = new Map<string, Map<number, BoardOccupant>>(
    queries.map((query) => [query.key, new Map()]),
  );
  const pairs = queries.flatMap((query) =>
    query.bedIds.map((bedId) => ({ key: query.key, bedId, at: query.at })),
  );
  if (pairs.length === 0) return result;

  const { rows } = await queryPrepared<{
    key: string;
    bedId: number;
    patientId: string;
    initials: string | null;
    consent: (Omit<ConsentRecord, 'validFrom' | 'validTo' | 'recordedAt'> & {
      validFrom: string;
      validTo: string | null;
      recordedAt: string;
    })[];
  }>(db, readOccupants, [
    pairs.map((pair) => pair.key),
    pairs.map((pair) => pair.bedId),
    pairs.map((pair) => pair.at),
  ]);
  for (const row of rows) {
    result.get(row.key)!.set(row.bedId, {
      bedId: row.bedId,
      patientId: row.patientId,
      initials: row.initials,
      consent: row.consent.map((record) => ({
        ...record,
        validFrom: new Date(record.validFrom),
        validTo: record.validTo === null ? null : new Date(record.validTo),
        recordedAt: new Date(record.recordedAt),
      })),
    });
  }
  return result;
}

const readOccupants = prepared(
  'board_read_occupants',
  `SELECT DISTINCT ON (q.key, q.bed_id) q.key, q.bed_id AS "bedId",
        e.patient_id AS "patientId",
        nullif(upper(left(i.given_name, 1)) || upper(left(i.family_name, 1)), '')
          AS initials,
        coalesce((
          SELECT json_agg(json_build_object(
                   'id', c.id::text, 'patientId', c.patient_id, 'policy', c.policy,
                   'action', c.action, 'validFrom', c.valid_from, 'validTo', c.valid_to,
                   'recordedBy', c.recorded_by, 'recordedAt', c.recorded_at))
            FROM patient_consent c WHERE c.patient_id = e.patient_id), '[]') AS consent
   FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS q(key, bed_id, at)
   JOIN bed_stay s
     ON s.bed_id = q.bed_id AND NOT s.cancelled
    AND s.start_at <= q.at AND (s.end_at IS NULL OR s.end_at > q.at)
   JOIN encounter e ON e.id = s.encounter_id
   LEFT JOIN patient_identity i ON i.patient_id = e.patient_id
  ORDER BY q.key, q.bed_id, s.start_at DESC`,
);
