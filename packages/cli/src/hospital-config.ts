import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { departmentKinds, isDepartmentKind, type DepartmentKind } from '@medaxis/db';

import { repoRoot } from './context.ts';

export type { DepartmentKind };

export interface RoomGroup {
  /** How many rooms of this size. */
  count: number;
  /** Beds in each room. */
  beds: number;
}

export interface DepartmentConfig {
  code: string;
  name: string;
  kind: DepartmentKind;
  bedType: string;
  /** Mean length of stay in the department, in days: drives the demo's admissions. */
  averageStayDays: number;
  rooms: RoomGroup[];
}

export interface HospitalConfig {
  site: { code: string; name: string; timeZone: string };
  departments: DepartmentConfig[];
}

export const defaultHospitalConfigPath = join(repoRoot, 'config', 'hospital.json');

/** Reads and checks config/hospital.json; every problem is named with its path. */
export function loadHospitalConfig(path = defaultHospitalConfigPath): HospitalConfig {
  return parseHospitalConfig(JSON.parse(readFileSync(path, 'utf8')), path);
}

export function parseHospitalConfig(raw: unknown, source = 'hospital config'): HospitalConfig {
  const problems: string[] = [];
  const at = (path: string, message: string) => problems.push(`${path}: ${message}`);

  const root = asRecord(raw);
  const site = asRecord(root.site);
  for (const key of ['code', 'name', 'timeZone'] as const) {
    if (!isText(site[key])) at(`site.${key}`, 'must be a non-empty string');
  }
  if (isText(site.timeZone) && !isTimeZone(site.timeZone)) {
    at('site.timeZone', `unknown IANA time zone ${site.timeZone}`);
  }

  const departments = Array.isArray(root.departments) ? root.departments : [];
  if (departments.length === 0) at('departments', 'must list at least one department');
  const codes = new Set<string>();
  const parsed = departments.map((value, index): DepartmentConfig => {
    const path = `departments[${index}]`;
    const department = asRecord(value);
    if (!isText(department.code) || !/^[A-Z0-9]+$/.test(department.code)) {
      at(`${path}.code`, 'must be upper-case letters and digits (it prefixes bed codes)');
    } else if (codes.has(department.code)) {
      at(`${path}.code`, `duplicate department ${department.code}`);
    } else {
      codes.add(department.code);
    }
    if (!isText(department.name)) at(`${path}.name`, 'must be a non-empty string');
    if (!isDepartmentKind(String(department.kind))) {
      at(`${path}.kind`, `must be one of ${departmentKinds.join(', ')}`);
    }
    if (department.bedType !== undefined && !isText(department.bedType)) {
      at(`${path}.bedType`, 'must be a non-empty string when given');
    }
    if (!isPositive(department.averageStayDays)) {
      at(`${path}.averageStayDays`, 'must be a positive number of days');
    }
    const rooms = Array.isArray(department.rooms) ? department.rooms.map(asRecord) : [];
    if (rooms.length === 0) at(`${path}.rooms`, 'must list at least one group of rooms');
    rooms.forEach((room, roomIndex) => {
      if (!isCount(room.count, 999)) at(`${path}.rooms[${roomIndex}].count`, 'must be 1–999');
      // Bed letters run A–Z.
      if (!isCount(room.beds, 26)) at(`${path}.rooms[${roomIndex}].beds`, 'must be 1–26');
    });
    return {
      code: department.code as string,
      name: department.name as string,
      kind: department.kind as DepartmentKind,
      bedType: (department.bedType as string | undefined) ?? 'standard',
      averageStayDays: department.averageStayDays as number,
      rooms: rooms.map((room) => ({ count: room.count as number, beds: room.beds as number })),
    };
  });

  if (problems.length > 0) {
    throw new Error(`invalid ${source}:\n  ${problems.join('\n  ')}`);
  }
  return {
    site: {
      code: site.code as string,
      name: site.name as string,
      timeZone: site.timeZone as string,
    },
    departments: parsed,
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isCount(value: unknown, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
