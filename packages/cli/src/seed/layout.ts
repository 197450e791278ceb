import { ensureBed, ensureDepartment, ensureRoom, ensureSite, type Db } from '@medaxis/db';

import type { FlowDepartment } from '../demo/flows.ts';
import type { DepartmentConfig, HospitalConfig } from '../hospital-config.ts';

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

/** The rooms of a configured department, numbered from 1, with the codes of their beds. */
export function configuredRooms(department: DepartmentConfig) {
  const sizes = department.rooms.flatMap((group) => Array<number>(group.count).fill(group.beds));
  return sizes.map((size, index) => ({
    number: index + 1,
    bedCodes: Array.from({ length: size }, (_, b) => bedCode(department.code, index + 1, b)),
  }));
}

/** Every bed config/hospital.json defines, with its department: the demo hospital's own. */
export function configuredBeds(config: HospitalConfig) {
  return config.departments.flatMap((department) =>
    configuredRooms(department).flatMap((room) =>
      room.bedCodes.map((code) => ({ code, departmentCode: department.code })),
    ),
  );
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

    // Rooms of one department are independent: create them side by side.
    const created = await Promise.all(
      configuredRooms(department).map(async (room) => {
        const roomId = await ensureRoom(db, id, String(room.number).padStart(3, '0'));
        const ids: number[] = [];
        for (const code of room.bedCodes) {
          ids.push(await ensureBed(db, { roomId, code, type: department.bedType, since }));
        }
        return room.bedCodes.map((code, b) => ({ id: ids[b]!, code, department: flow }));
      }),
    );
    beds.push(...created.flat());
  }

  return { siteCode: config.site.code, timeZone: config.site.timeZone, departments, beds };
}
