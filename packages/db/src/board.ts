import type { BedStatus } from '@medaxis/domain';

import { departmentOrderBy } from './catalog.ts';
import { bind, prepared, type BoundStatement, type Queryable } from './pool.ts';

/**
 * What a board shows of one bed: minimal by design (DESIGN.md "Live board path" 4). No patient
 * identity; `initials` stays null until policy allows it. packages/api re-exports it as
 * BoardBed, the type the web app sees.
 */
export interface BoardBedRow {
  id: number;
  code: string;
  roomCode: string;
  departmentCode: string;
  status: BedStatus;
  /** ISO instant the current status began: drives the cleaning/blocked/waiting timers. */
  since: string;
  /** Why a bed is blocked (closed, contaminated, maintenance...). */
  reason: string | null;
  isolation: boolean;
  initials: string | null;
  /** For occupied beds: the encounter's expected discharge (a pending discharge when due). */
  expectedDischargeAt: string | null;
  /** For occupied ED beds: when admission was decided; set means the patient is boarding. */
  admitDecisionAt: string | null;
}

// Identity is never joined here: initials stay null until the policy layer may supply them.
const boardBedSelect = `
  SELECT b.id, b.code, r.code AS "roomCode", d.code AS "departmentCode",
         b.status::text AS status,
         to_json(b.status_since)#>>'{}' AS since,
         b.status_reason AS reason, b.isolation, NULL::text AS initials,
         CASE WHEN b.status = 'occupied'
              THEN to_json(e.expected_discharge_at)#>>'{}' END AS "expectedDischargeAt",
         CASE WHEN b.status = 'occupied'
              THEN to_json(e.admit_decision_at)#>>'{}' END AS "admitDecisionAt"
    FROM bed b
    JOIN room r ON r.id = b.room_id
    JOIN department d ON d.id = r.department_id
    LEFT JOIN encounter e ON e.id = b.encounter_id`;

const boardBedsById = `${boardBedSelect} WHERE b.id = ANY($1::int[]) ORDER BY b.id`;

export async function loadBoardBeds(db: Queryable, bedIds: readonly number[]) {
  if (bedIds.length === 0) return [];
  const { rows } = await db.query<BoardBedRow>(boardBedsById, [bedIds]);
  return rows;
}

/** loadBoardBeds as a statement, to run after other statements in one round trip. */
export function boardBedsStatement(bedIds: readonly number[]): BoundStatement {
  return bind(readBoardBeds, [bedIds]);
}

const readBoardBeds = prepared('board_read_beds', boardBedsById);

/** Every bed of the site, or of one department, in display order. */
export async function loadBoardBedsByDepartment(db: Queryable, departmentCode?: string) {
  const { rows } = await db.query<BoardBedRow>(
    `${boardBedSelect}
      WHERE $1::text IS NULL OR d.code = $1
      ORDER BY ${departmentOrderBy('d')}, r.code, b.code`,
    [departmentCode ?? null],
  );
  return rows;
}
