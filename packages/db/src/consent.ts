import { ErrorCode, MedaxisError } from '@medaxis/domain';
import type { ConsentInput, ConsentRecord, RowFilter } from '@medaxis/policy';

import { loadBoardBeds } from './board.ts';
import { appendEvent } from './events.ts';
import { withTransaction, type Db, type Queryable } from './pool.ts';
import type { Params } from './sql-params.ts';

const consentColumns = `c.id::text AS id, c.patient_id AS "patientId", c.policy,
  c.action::text AS action, c.valid_from AS "validFrom", c.valid_to AS "validTo",
  c.recorded_by AS "recordedBy", c.recorded_at AS "recordedAt"`;

/** The payload of a `consent-changed` event: boards re-show the beds the patients lie in. */
export interface ConsentChangedPayload {
  patientIds: string[];
  beds: Awaited<ReturnType<typeof loadBoardBeds>>;
}

/**
 * Records consent decisions, all or none, in one transaction. The caller has checked each
 * record against the policies (packages/policy `checkConsentInput`); the database checks the
 * periods again. An unknown patient refuses the whole batch.
 *
 * When a patient lies in a bed, the same transaction appends a `consent-changed` event with
 * that bed's state: every open board stream re-evaluates what it shows of the bed at once, so
 * a revocation reaches boards already open, not just the next request.
 */
export async function recordConsent(
  db: Db,
  records: readonly ConsentInput[],
  recordedBy: string,
): Promise<ConsentRecord[]> {
  return withTransaction(db, async (tx) => {
    const patientIds = [...new Set(records.map((record) => record.patientId))].sort();
    const known = await tx.query<{ id: string }>(
      // Locked so a concurrent merge or deletion of the patient waits for this batch.
      `SELECT id FROM patient WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE`,
      [patientIds],
    );
    if (known.rowCount !== patientIds.length) {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'No such patient.');
    }

    const { rows } = await tx.query<ConsentRecord>(
      `INSERT INTO patient_consent AS c
              (patient_id, policy, action, valid_from, valid_to, recorded_by)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::consent_action[], $4::timestamptz[],
                            $5::timestamptz[], $6::text[])
       RETURNING ${consentColumns}`,
      [
        records.map((record) => record.patientId),
        records.map((record) => record.policy),
        records.map((record) => record.action),
        records.map((record) => record.validFrom),
        records.map((record) => record.validTo),
        records.map(() => recordedBy),
      ],
    );

    const beds = await tx.query<{ id: number; departmentId: number }>(
      `SELECT b.id, r.department_id AS "departmentId"
         FROM bed b
         JOIN room r ON r.id = b.room_id
         JOIN encounter e ON e.id = b.encounter_id
        WHERE b.status = 'occupied' AND e.patient_id = ANY($1::uuid[])
        ORDER BY b.id`,
      [patientIds],
    );
    if (beds.rows.length > 0) {
      const first = beds.rows[0]!;
      await appendEvent(tx, {
        type: 'consent-changed',
        occurredAt: new Date(),
        source: 'consent',
        departmentId: first.departmentId,
        bedId: first.id,
        encounterId: null,
        payload: {
          patientIds,
          beds: await loadBoardBeds(
            tx,
            beds.rows.map((bed) => bed.id),
          ),
        } satisfies ConsentChangedPayload,
      });
    }
    return rows;
  });
}

/** Every consent record of the patients, in recording order. */
export async function loadConsentRecords(
  db: Queryable,
  patientIds: readonly string[],
): Promise<ConsentRecord[]> {
  if (patientIds.length === 0) return [];
  const { rows } = await db.query<ConsentRecord>(
    `SELECT ${consentColumns} FROM patient_consent c
      WHERE c.patient_id = ANY($1::uuid[])
      ORDER BY c.recorded_at, c.id`,
    [patientIds],
  );
  return rows;
}

/**
 * The SQL that puts patient `column` in or out of view of the filter, consent-wise: a lateral
 * `join` (alias consent_now), the `visible` condition, and `breakGlass`, true where only an
 * override puts the patient in view. It evaluates the rule of packages/policy `consentState`
 * (the latest recorded decision in effect at the filter's instant wins, else the policy's
 * default) for the policies the filter names; packages/db/test/consent-rule.int.test.ts holds the
 * two to the same answers.
 */
export function consentVisibilitySql(
  column: string,
  filter: RowFilter,
  params: Params,
): { join: string; visible: string; breakGlass: string } {
  const at = params.add(filter.at);
  const join = `
    LEFT JOIN LATERAL (
      SELECT coalesce(array_agg(s.policy) FILTER (WHERE s.action <> 'grant'), '{}') AS restricted,
             coalesce(array_agg(s.policy) FILTER (WHERE s.action = 'grant'), '{}') AS granted
        FROM (SELECT DISTINCT ON (c.policy) c.policy, c.action
                FROM patient_consent c
               WHERE c.patient_id = ${column}
                 AND c.valid_from <= ${at}::timestamptz
                 AND (c.valid_to IS NULL OR c.valid_to > ${at}::timestamptz)
               ORDER BY c.policy, c.recorded_at DESC, c.id DESC) s
    ) consent_now ON true`;
  const hideIfRestricted = params.add(filter.hideIfRestricted);
  const hideUnlessGranted = params.add(filter.hideUnlessGranted);
  const unrestricted = `(NOT (consent_now.restricted && ${hideIfRestricted}::text[])
      AND consent_now.granted @> ${hideUnlessGranted}::text[])`;
  const overridden = `${column} = ANY(${params.add(filter.breakGlassPatients)}::uuid[])`;
  return {
    join,
    visible: `(${unrestricted} OR ${overridden})`,
    breakGlass: `(NOT ${unrestricted} AND ${overridden})`,
  };
}
