import { ensureBed, ensureDepartment, ensureRoom, ensureSite, type Db } from '@medaxis/db';

import type { FlowDepartment } from '../demo/flows.ts';
import type { HospitalConfig } from '../hospital-config.ts';

export interface LayoutBed {
  id: number;
  code: string;
  department: FlowDepartment;
}

export interface HospitalLayout {
  siteCode: string;
  timeZone: string;
  departments: FlowDepartment[];
  beds: LayoutBed[];
}

/** Bed code as printed on the bed: department, room number, letter (`MED1-012-B`). */
export function bedCode(department: string, room: number, bed: number): string {
  return `${department}-${String(room).padStart(3, '0')}-${String.fromCharCode(65 + bed)}`;
}

/**
 * Creates the site, departments, rooms and beds of the configuration (those that do not exist
 * yet). Beds start free at `since`, which must precede every command the seed will date.
 */
export async function buildLayout(
  db: Db,
  config: HospitalConfig,
  since: Date,
): Promise<HospitalLayout> {
  const siteId = await ensureSite(db, config.site);
  const departments: FlowDepartment[] = [];
  const beds: LayoutBed[] = [];

  for (const [index, department] of config.departments.entries()) {
    const id = await ensureDepartment(db, siteId, {
      code: department.code,
      name: department.name,
      kind: department.kind,
      sortOrder: (index + 1) * 10,
    });
    const flow: FlowDepartment = {
      id,
      code: department.code,
      kind: department.kind,
      averageStayDays: department.averageStayDays,
      bedCount: department.rooms.reduce((sum, group) => sum + group.count * group.beds, 0),
    };
    departments.push(flow);

    const roomSizes = department.rooms.flatMap((group) =>
      Array<number>(group.count).fill(group.beds),
    );
    // Rooms of one department are independent: create them side by side.
    const created = await Promise.all(
      roomSizes.map(async (size, roomIndex) => {
        const roomNumber = roomIndex + 1;
        const roomId = await ensureRoom(db, id, String(roomNumber).padStart(3, '0'));
        const codes = Array.from({ length: size }, (_, b) =>
          bedCode(department.code, roomNumber, b),
        );
        const ids: number[] = [];
        for (const code of codes) {
          ids.push(await ensureBed(db, { roomId, code, type: department.bedType, since }));
        }
        return codes.map((code, b) => ({ id: ids[b]!, code, department: flow }));
      }),
    );
    beds.push(...created.flat());
  }

  return { siteCode: config.site.code, timeZone: config.site.timeZone, departments, beds };
}
