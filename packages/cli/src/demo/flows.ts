import type { DepartmentKind } from '../hospital-config.ts';
import type { Random } from './random.ts';

/**
 * How patients move through the demo hospital: shared by the seed (which plays days of it
 * forward) and the live simulator, so both tell the same story.
 */

export const minute = 60_000;
export const hour = 60 * minute;
export const day = 24 * hour;

export interface FlowDepartment {
  id: number;
  code: string;
  kind: DepartmentKind;
  averageStayDays: number;
  bedCount: number;
}

/** Reasons beds are taken out of service for a while (not the isolation clean, see below). */
export const maintenanceReasons = [
  'maintenance',
  'maintenance: bed motor fault',
  'repair: oxygen outlet',
  'closed: staffing',
] as const;

/** A room that held an isolated patient is blocked for a terminal clean before reuse. */
export const isolationCleanReason = 'isolation clean';

/** Share of admitted patients who need isolation (MRSA, C. difficile, influenza...). */
export const isolationRate = 0.06;

/**
 * Where an ED patient with an admit decision goes, by department kind: medicine takes most,
 * maternity admits directly from its own triage, the ED never admits to itself.
 */
const edAdmissionShare: Record<DepartmentKind, number> = {
  ward: 1,
  surgery: 0.6,
  icu: 0.5,
  pediatrics: 0.3,
  maternity: 0,
  clinic: 0,
  emergency: 0,
  other: 0,
};

/** Weights of the departments an ED patient may be admitted to (by size and kind). */
export function edAdmissionWeights(departments: readonly FlowDepartment[]) {
  return Object.fromEntries(
    departments.map((d) => [d.code, d.bedCount * edAdmissionShare[d.kind]]),
  ) as Record<string, number>;
}

/** Weights of the wards an ICU patient steps down to. */
export function stepDownWeights(departments: readonly FlowDepartment[]) {
  return Object.fromEntries(
    departments.map((d) => [d.code, d.kind === 'ward' || d.kind === 'surgery' ? d.bedCount : 0]),
  ) as Record<string, number>;
}

/** A length of stay in the department, in milliseconds (skewed, at least two hours). */
export function sampleStayMs(random: Random, department: FlowDepartment): number {
  return Math.max(2 * hour, random.logNormal(department.averageStayDays * day));
}

/**
 * How long before a direct admission (one not through the ED) the decision to admit was made:
 * elective surgery is booked days ahead, a woman in labour is admitted from triage within
 * hours, a patient sent in by a clinic or another hospital within a day or so. ED patients get
 * theirs when the ED decides (edDisposition, the simulator's admit-decision): boarding runs
 * from it.
 */
export function sampleAdmitDecisionLeadMs(random: Random, kind: DepartmentKind): number {
  switch (kind) {
    case 'surgery':
      return random.uniform(1, 21) * day;
    case 'maternity':
    case 'icu':
      return random.uniform(0.5, 4) * hour;
    case 'pediatrics':
      return random.uniform(1, 12) * hour;
    case 'ward':
    case 'emergency':
    case 'clinic':
    case 'other':
      return random.uniform(2, 36) * hour;
  }
}

/**
 * Turnaround after a patient leaves: how long the bed waits for housekeeping, then how long the
 * clean takes. ED bays are turned around quickly between patients.
 */
export function sampleTurnaround(random: Random, kind: DepartmentKind) {
  return kind === 'emergency'
    ? { waitMs: random.uniform(3, 20) * minute, cleanMs: random.uniform(8, 20) * minute }
    : { waitMs: random.uniform(10, 90) * minute, cleanMs: random.uniform(20, 50) * minute };
}

/**
 * Patients go home in the day: a discharge falling at night moves to the next late morning or
 * afternoon in the hospital's zone.
 */
export function daytimeDischarge(random: Random, at: number, timeZone: string): number {
  const localHour = hourIn(at, timeZone);
  if (localHour >= 10 && localHour < 17) return at;
  const hoursToTen = localHour < 10 ? 10 - localHour : 34 - localHour;
  return at + hoursToTen * hour + random.uniform(0, 6) * hour;
}

const hourFormats = new Map<string, Intl.DateTimeFormat>();

/** Hour of the day (0–23, fractional) at an instant in a zone. */
export function hourIn(at: number, timeZone: string): number {
  let format = hourFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    hourFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const value = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return value('hour') + value('minute') / 60;
}
