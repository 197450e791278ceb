import type { BoardBed, BoardDepartment, BoardSnapshot } from '@medaxis/api';

let nextBedId = 1;

export function makeBed(overrides: Partial<BoardBed> = {}): BoardBed {
  const id = overrides.id ?? nextBedId++;
  return {
    id,
    code: `B${id}`,
    roomCode: 'R1',
    departmentCode: 'MED',
    status: 'free',
    since: '2026-12-03T08:00:00.000Z',
    reason: null,
    isolation: false,
    initials: null,
    expectedDischargeAt: null,
    admitDecisionAt: null,
    ...overrides,
  };
}

/** A department whose beds are grouped into rooms by their roomCode, in order. */
export function makeDepartment(
  code: string,
  beds: BoardBed[],
  overrides: Partial<BoardDepartment> = {},
): BoardDepartment {
  const rooms: BoardDepartment['rooms'] = [];
  for (const bed of beds) {
    let room = rooms.at(-1);
    if (room?.code !== bed.roomCode) {
      room = { code: bed.roomCode, beds: [] };
      rooms.push(room);
    }
    room.beds.push({ ...bed, departmentCode: code });
  }
  return {
    id: code.length * 1000 + code.charCodeAt(0),
    code,
    name: code,
    kind: 'ward',
    rooms,
    ...overrides,
  };
}

export function makeSnapshot(
  departments: BoardDepartment[],
  overrides: Partial<BoardSnapshot> = {},
): BoardSnapshot {
  return {
    site: { code: 'DEMO', name: 'Demo General', timeZone: 'Europe/Paris' },
    departments,
    lastEventId: '100',
    serverTime: '2026-12-03T10:00:00.000Z',
    ...overrides,
  };
}
