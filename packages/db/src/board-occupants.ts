import type { ConsentRecord } from '@medaxis/policy';

import type { Queryable } from './pool.ts';

/** Who lay in a bed at an instant, with what a board may show of them once policy allows. */
export interface BoardOccupant {
  bedId: number;
  patientId: string;
  /** Given and family name initials, null when the identity has no names. */
  initials: string | null;
  /** Every consent record of the patient: packages/policy decides what is in effect. */
  consent: ConsentRecord[];
}

/**
 * The patients lying in these beds at `at` (from the bed stays, so an old event finds the
 * patient of its time), with their initials and consent records, in one round trip.
 *
 * This is the boards' one read of identity, and it reads initials only. It is shared by every
 * board of the instance (one read per event, however many boards watch), so it cannot take one
 * board's row filter: packages/api board-feed applies each board's decision (department scope,
 * consent, field mask) to the result before anything leaves the server.
 */
export async function loadBoardOccupants(
  db: Queryable,
  bedIds: readonly number[],
  at: Date | string,
): Promise<Map<number, BoardOccupant>> {
  const occupants = new Map<number, BoardOccupant>();
  if (bedIds.length === 0) return occupants;
  const { rows } = await db.query<{
    bedId: number;
    patientId: string;
    initials: string | null;
    consent: (Omit<ConsentRecord, 'validFrom' | 'validTo' | 'recordedAt'> & {
      validFrom: string;
      validTo: string | null;
      recordedAt: string;
    })[];
  }>(
    `SELECT DISTINCT ON (s.bed_id) s.bed_id AS "bedId", e.patient_id AS "patientId",
            nullif(upper(left(i.given_name, 1)) || upper(left(i.family_name, 1)), '')
              AS initials,
            coalesce((
              SELECT json_agg(json_build_object(
                       'id', c.id::text, 'patientId', c.patient_id, 'policy', c.policy,
                       'action', c.action, 'validFrom', c.valid_from, 'validTo', c.valid_to,
                       'recordedBy', c.recorded_by, 'recordedAt', c.recorded_at))
                FROM patient_consent c WHERE c.patient_id = e.patient_id), '[]') AS consent
       FROM bed_stay s
       JOIN encounter e ON e.id = s.encounter_id
       LEFT JOIN patient_identity i ON i.patient_id = e.patient_id
      WHERE s.bed_id = ANY($1::int[]) AND NOT s.cancelled
        AND s.start_at <= $2::timestamptz
        AND (s.end_at IS NULL OR s.end_at > $2::timestamptz)
      ORDER BY s.bed_id, s.start_at DESC`,
    [bedIds, at],
  );
  for (const row of rows) {
    occupants.set(row.bedId, {
      ...row,
      consent: row.consent.map((record) => ({
        ...record,
        validFrom: new Date(record.validFrom),
        validTo: record.validTo === null ? null : new Date(record.validTo),
        recordedAt: new Date(record.recordedAt),
      })),
    });
  }
  return occupants;
}
