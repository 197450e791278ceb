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

export interface OccupancyRow extends CensusRow {
  /** Beds of the department blocked (closed) at the instant, from the beds' status history. */
  blocked: number;
  /** Beds open at the instant: all but the blocked ones. */
  open: number;
}

/**
 * The census with the wall board's denominator: blocked beds are closed, not available
 * capacity, so occupancy is occupied over open beds (apps/web's figures). Blocked beds are
 * read from status intervals [start, end), so a past instant sees the beds closed then.
 */
export async function occupancyAt(
  db: Queryable,
  options: { at?: Date; departmentCode?: string } = {},
): Promise<OccupancyRow[]> {
  const at = options.at ?? new Date();
  const census = await censusAt(db, { ...options, at });
  const { rows } = await db.query<{ department: string; blocked: number }>(
    `SELECT d.code AS department, count(DISTINCT b.id)::int AS blocked
       FROM department d
       JOIN room r ON r.department_id = d.id
       JOIN bed b ON b.room_id = r.id
       JOIN bed_status_history h
         ON h.bed_id = b.id AND h.status = 'blocked'
        AND tstzrange(h.start_at, h.end_at) @> $1::timestamptz
      WHERE $2::text IS NULL OR d.code = $2
      GROUP BY d.code`,
    [at, options.departmentCode ?? null],
  );
  const blocked = new Map(rows.map((row) => [row.department, row.blocked]));
  return census.map((row) => {
    const closed = blocked.get(row.department) ?? 0;
    return { ...row, blocked: closed, open: row.beds - closed };
  });
}

/**
 * The latest instant a bed stay began or ended, or null without stays. Imported history can
 * lie ahead of the clock (MIMIC's shifted dates run to 2201): up to this instant, a census
 * counts recorded stays; after it and after now, it could only guess.
 */
export async function lastBedStayChange(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT max(greatest(start_at, end_at)) AS at FROM bed_stay WHERE NOT cancelled`,
  );
  return rows[0]?.at ?? null;
}
