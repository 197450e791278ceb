import { departmentOrderBy } from './catalog.ts';
import type { Queryable } from './pool.ts';

export interface CensusRow {
  department: string;
  name: string;
  /** Patients in a bed of the department at the instant, from bed-stay intervals. */
  occupied: number;
  /** Beds of the department as configured now. */
  beds: number;
}

/**
 * Occupied beds per department at an instant (default now), counted from bed-stay intervals
 * [start, end): the census is a fact of the stays, not of the beds' current status, so it is
 * equally right for any past instant.
 */
export async function censusAt(
  db: Queryable,
  options: { at?: Date; departmentCode?: string } = {},
): Promise<CensusRow[]> {
  const { rows } = await db.query<CensusRow>(
    `SELECT d.code AS department, d.name,
            count(DISTINCT s.id)::int AS occupied,
            count(DISTINCT b.id)::int AS beds
       FROM department d
       JOIN room r ON r.department_id = d.id
       JOIN bed b ON b.room_id = r.id
       LEFT JOIN bed_stay s
         ON s.bed_id = b.id AND NOT s.cancelled
        AND tstzrange(s.start_at, s.end_at) @> $1::timestamptz
      WHERE $2::text IS NULL OR d.code = $2
      GROUP BY d.id
      ORDER BY ${departmentOrderBy('d')}`,
    [options.at ?? new Date(), options.departmentCode ?? null],
  );
  return rows;
}
