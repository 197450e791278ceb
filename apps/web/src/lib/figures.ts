import type { BoardBed, BoardDepartment } from '@medaxis/api';

import { dateKey } from './time.ts';

/** Department kind whose occupied beds with an admit decision are boarding patients. */
export const emergencyKind = 'emergency';

/** The counts a card or the hospital strip shows. */
export interface BedFigures {
  beds: number;
  occupied: number;
  free: number;
  /** Housekeeping (waiting) plus cleaning (in progress): beds not yet usable again. */
  cleaning: number;
  /** Of `cleaning`, the beds still waiting for housekeeping to start. */
  toClean: number;
  blocked: number;
  /** Beds held for a pending admission or transfer. */
  reserved: number;
  /**
   * Occupied over open beds (all but blocked), 0–100, rounded. Blocked beds are closed, so a
   * ward with every open bed taken reads 100 % however many beds it has closed.
   */
  occupancyPercent: number;
  /** Occupied beds whose expected discharge falls today or earlier in the site's zone. */
  pendingDischarges: number;
  /** ED patients with an admit decision still on an ED bed: boarding, waiting for a ward bed. */
  boarding: number;
}

export interface FigureContext {
  /** Today in the site's zone as YYYY-MM-DD (see `dateKey`). */
  today: string;
  timeZone: string;
}

function emptyFigures(): BedFigures {
  return {
    beds: 0,
    occupied: 0,
    free: 0,
    cleaning: 0,
    toClean: 0,
    blocked: 0,
    reserved: 0,
    occupancyPercent: 0,
    pendingDischarges: 0,
    boarding: 0,
  };
}

/**
 * Whether an occupied bed's patient is due to leave: 'today', 'overdue' (expected on an earlier
 * day, in the site's zone), or null.
 */
export function dischargeDue(bed: BoardBed, context: FigureContext): 'today' | 'overdue' | null {
  if (bed.status !== 'occupied' || bed.expectedDischargeAt === null) return null;
  const day = dateKey(Date.parse(bed.expectedDischargeAt), context.timeZone);
  if (day === context.today) return 'today';
  return day < context.today ? 'overdue' : null;
}

/** True when a bed's patient is due to leave today or was due earlier. */
export function isPendingDischarge(bed: BoardBed, context: FigureContext): boolean {
  return dischargeDue(bed, context) !== null;
}

/** True for an ED patient with an admit decision: the boarding clock is running. */
export function isBoarding(bed: BoardBed, departmentKind: string): boolean {
  return (
    departmentKind === emergencyKind && bed.status === 'occupied' && bed.admitDecisionAt !== null
  );
}

function countBed(figures: BedFigures, bed: BoardBed, kind: string, context: FigureContext) {
  figures.beds += 1;
  switch (bed.status) {
    case 'occupied':
      figures.occupied += 1;
      if (isPendingDischarge(bed, context)) figures.pendingDischarges += 1;
      if (isBoarding(bed, kind)) figures.boarding += 1;
      break;
    case 'free':
      figures.free += 1;
      break;
    case 'housekeeping':
      figures.cleaning += 1;
      figures.toClean += 1;
      break;
    case 'cleaning':
      figures.cleaning += 1;
      break;
    case 'blocked':
      figures.blocked += 1;
      break;
    case 'reserved':
      figures.reserved += 1;
      break;
  }
}

function finish(figures: BedFigures): BedFigures {
  const open = figures.beds - figures.blocked;
  figures.occupancyPercent = open === 0 ? 0 : Math.round((100 * figures.occupied) / open);
  return figures;
}

/** Figures of one department. */
export function computeDepartmentFigures(
  department: BoardDepartment,
  context: FigureContext,
): BedFigures {
  const figures = emptyFigures();
  for (const room of department.rooms) {
    for (const bed of room.beds) countBed(figures, bed, department.kind, context);
  }
  return finish(figures);
}

/** Figures of every department together: the hospital strip, or one department's. */
export function computeFigures(
  departments: readonly BoardDepartment[],
  context: FigureContext,
): BedFigures {
  const total = emptyFigures();
  for (const department of departments) {
    for (const room of department.rooms) {
      for (const bed of room.beds) countBed(total, bed, department.kind, context);
    }
  }
  return finish(total);
}
