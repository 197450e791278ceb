import { censusAt, type Queryable } from '@medaxis/db';

export const censusSnapshotJob = 'census-snapshot';

/** Every 15 minutes, read in the hospital's time zone. */
export const censusSnapshotCron = '*/15 * * * *';

const quarterHourMs = 15 * 60_000;

/**
 * The quarter hour a census job stands for: the one in which pg-boss created it. Every zone's
 * offset is a multiple of 15 minutes, so UTC quarter hours are the hospital's too. A job run
 * late still counts its own quarter hour: the census is computed from bed stays, as right for
 * a past instant as for now.
 */
export function censusSlot(createdOn: Date): Date {
  return new Date(Math.floor(createdOn.getTime() / quarterHourMs) * quarterHourMs);
}

/**
 * Stores the census of every department at `takenAt`. Running it twice for one instant (a
 * retried job, two workers) keeps the first rows.
 */
export async function takeCensusSnapshot(db: Queryable, takenAt: Date): Promise<number> {
  const census = await censusAt(db, { at: takenAt });
  const { rowCount } = await db.query(
    `INSERT INTO census_snapshot (department_id, taken_at, occupied, beds)
     SELECT d.id, $1, c.occupied, c.beds
       FROM unnest($2::text[], $3::int[], $4::int[]) AS c(code, occupied, beds)
       JOIN department d ON d.code = c.code
     ON CONFLICT (department_id, taken_at) DO NOTHING`,
    [
      takenAt,
      census.map((row) => row.department),
      census.map((row) => row.occupied),
      census.map((row) => row.beds),
    ],
  );
  return rowCount ?? 0;
}
