import type { Queryable } from '@medaxis/db';

/**
 * What must hold in any state of the hospital, as queries returning the offending rows (so a
 * failure shows them). Empty everywhere means no invariant is broken.
 */
export async function brokenInvariants(db: Queryable): Promise<Record<string, unknown[]>> {
  const checks: Record<string, string> = {
    // An occupied bed holds exactly the encounter of its one open stay, and vice versa.
    occupiedWithoutStay: `
      SELECT b.code FROM bed b
       WHERE b.status = 'occupied' AND NOT EXISTS (
         SELECT 1 FROM bed_stay s WHERE s.bed_id = b.id AND s.end_at IS NULL
            AND NOT s.cancelled AND s.encounter_id = b.encounter_id)`,
    openStayWithoutOccupiedBed: `
      SELECT s.id FROM bed_stay s JOIN bed b ON b.id = s.bed_id
       WHERE s.end_at IS NULL AND NOT s.cancelled
         AND (b.status <> 'occupied' OR b.encounter_id IS DISTINCT FROM s.encounter_id)`,
    overlappingStaysOnBed: `
      SELECT a.id FROM bed_stay a JOIN bed_stay b
          ON a.bed_id = b.bed_id AND a.id < b.id AND NOT a.cancelled AND NOT b.cancelled
         AND tstzrange(a.start_at, a.end_at) && tstzrange(b.start_at, b.end_at)`,
    encounterInTwoBeds: `
      SELECT a.id FROM bed_stay a JOIN bed_stay b
          ON a.encounter_id = b.encounter_id AND a.id < b.id
         AND NOT a.cancelled AND NOT b.cancelled
         AND tstzrange(a.start_at, a.end_at) && tstzrange(b.start_at, b.end_at)`,
    // A bed's status history is one unbroken line of intervals, the open one its status now.
    statusHistoryNotCurrent: `
      SELECT b.code FROM bed b
       WHERE (SELECT count(*) FROM bed_status_history h
               WHERE h.bed_id = b.id AND h.end_at IS NULL) <> 1
          OR NOT EXISTS (SELECT 1 FROM bed_status_history h
                          WHERE h.bed_id = b.id AND h.end_at IS NULL
                            AND h.status = b.status AND h.start_at = b.status_since)`,
    statusHistoryGaps: `
      SELECT bed_id, start_at FROM (
        SELECT bed_id, start_at, lag(end_at) OVER (PARTITION BY bed_id ORDER BY start_at, id)
               AS previous_end,
               row_number() OVER (PARTITION BY bed_id ORDER BY start_at, id) AS n
          FROM bed_status_history) h
       WHERE n > 1 AND previous_end IS DISTINCT FROM start_at`,
    reservedForFinishedEncounter: `
      SELECT b.code FROM bed b JOIN encounter e ON e.id = b.encounter_id
       WHERE b.status = 'reserved' AND e.status <> 'in_progress'`,
    // An encounter is in progress exactly while it has an open stay (the demo has no others).
    encounterStatusAgainstStays: `
      SELECT e.id FROM encounter e
       WHERE (e.status = 'in_progress') <> EXISTS (
               SELECT 1 FROM bed_stay s
                WHERE s.encounter_id = e.id AND s.end_at IS NULL AND NOT s.cancelled)
          OR (e.status = 'finished' AND e.discharged_at IS NULL)`,
    blockedWithoutReason: `SELECT code FROM bed WHERE status = 'blocked' AND status_reason IS NULL`,
  };
  const broken: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(checks)) {
    const { rows } = await db.query(sql);
    if (rows.length > 0) broken[name] = rows.slice(0, 5);
  }
  return broken;
}
