import type { BoardBed, BoardDepartment, BoardEvent } from '@medaxis/api';

/** Where a bed sits in the snapshot's department → room → bed tree. */
export interface BedLocation {
  department: number;
  room: number;
  bed: number;
}

/** Indexes every bed of a snapshot by id, so an event's beds are found without a search. */
export function indexBeds(departments: readonly BoardDepartment[]): Map<number, BedLocation> {
  const index = new Map<number, BedLocation>();
  departments.forEach((department, d) => {
    department.rooms.forEach((room, r) => {
      room.beds.forEach((bed, b) => index.set(bed.id, { department: d, room: r, bed: b }));
    });
  });
  return index;
}

/**
 * True when `id` comes after `lastId`. Event ids are decimal strings of a bigint, so they are
 * compared as BigInt: as strings "10" < "9", as numbers they lose precision past 2^53.
 */
export function isNewerEvent(id: string, lastId: string | null): boolean {
  if (lastId === null) return true;
  return BigInt(id) > BigInt(lastId);
}

/**
 * Returns the departments with the event's beds replaced by their new state. Untouched
 * departments and rooms keep their identity, so only changed tiles re-render. Beds the snapshot
 * does not hold (another department's side of a transfer) are skipped. Returns the same array
 * when nothing changed.
 */
export function applyBedUpdates(
  departments: readonly BoardDepartment[],
  index: ReadonlyMap<number, BedLocation>,
  beds: readonly BoardBed[],
): readonly BoardDepartment[] {
  let next: BoardDepartment[] | null = null;

  for (const bed of beds) {
    const at = index.get(bed.id);
    if (!at) continue;

    next ??= departments.slice();
    const department = next[at.department]!;
    const room = department.rooms[at.room]!;
    const roomBeds = room.beds.slice();
    roomBeds[at.bed] = bed;
    const rooms = department.rooms.slice();
    rooms[at.room] = { ...room, beds: roomBeds };
    next[at.department] = { ...department, rooms };
  }

  return next ?? departments;
}

/** The result of offering one event to the board. */
export interface EventOutcome {
  departments: readonly BoardDepartment[];
  lastEventId: string | null;
  applied: boolean;
}

/**
 * Applies an event unless it is not newer than the last applied one: a replay after a
 * reconnect may overlap what the board already has, and nothing may be applied twice.
 */
export function applyBoardEvent(
  departments: readonly BoardDepartment[],
  index: ReadonlyMap<number, BedLocation>,
  lastEventId: string | null,
  event: Pick<BoardEvent, 'id' | 'beds'>,
): EventOutcome {
  if (!isNewerEvent(event.id, lastEventId)) {
    return { departments, lastEventId, applied: false };
  }
  return {
    departments: applyBedUpdates(departments, index, event.beds),
    lastEventId: event.id,
    applied: true,
  };
}

/** Every bed of the departments, in display order. */
export function* allBeds(departments: readonly BoardDepartment[]): Generator<BoardBed> {
  for (const department of departments) {
    for (const room of department.rooms) yield* room.beds;
  }
}
