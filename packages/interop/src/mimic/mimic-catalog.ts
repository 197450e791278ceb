import {
  ensureBed,
  ensureDepartment,
  ensureRoom,
  ensureSite,
  getSite,
  type Queryable,
} from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';

import type { CareUnitDepartment } from './care-units.ts';

/** MIMIC records care units but no rooms: each unit's beds share one room of this code. */
export const mimicRoomCode = 'MIMIC';

/** The installation's site, or a MIMIC one on a fresh database. */
export async function ensureMimicSite(db: Queryable, timeZone: string): Promise<number> {
  const site = await getSite(db);
  if (site) return site.id;
  return ensureSite(db, { code: 'MIMIC', name: 'MIMIC-IV demo hospital', timeZone });
}

/**
 * Creates the department of a care unit (marked for review, as everything an import invents)
 * and its room. A department of that code that is not this unit belongs to someone else:
 * writing MIMIC's stays into it would mix histories, so that stops the import.
 */
export async function ensureUnitDepartment(
  db: Queryable,
  siteId: number,
  department: CareUnitDepartment,
): Promise<{ departmentId: number; roomId: number }> {
  const departmentId = await ensureDepartment(db, siteId, { ...department, needsReview: true });
  const { rows } = await db.query<{ name: string }>(`SELECT name FROM department WHERE id = $1`, [
    departmentId,
  ]);
  if (rows[0]?.name !== department.name) {
    throw new MedaxisError(
      ErrorCode.conflict,
      'department_code_taken',
      `Department ${department.code} exists as "${rows[0]?.name}", not "${department.name}".`,
    );
  }
  return { departmentId, roomId: await ensureRoom(db, departmentId, mimicRoomCode) };
}

export function unitBedCode(departmentCode: string, number: number): string {
  return `${departmentCode}-${String(number).padStart(2, '0')}`;
}

/** Creates the bed in the unit's room, refusing a code already used by a bed elsewhere. */
export async function ensureUnitBed(
  db: Queryable,
  bed: { roomId: number; code: string; since: Date },
): Promise<number> {
  const bedId = await ensureBed(db, { ...bed, needsReview: true });
  const { rows } = await db.query<{ roomId: number }>(
    `SELECT room_id AS "roomId" FROM bed WHERE id = $1`,
    [bedId],
  );
  if (rows[0]?.roomId !== bed.roomId) {
    throw new MedaxisError(
      ErrorCode.conflict,
      'bed_code_taken',
      `Bed ${bed.code} already exists in another room.`,
    );
  }
  return bedId;
}
