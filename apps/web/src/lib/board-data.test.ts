import { describe, expect, it } from 'vitest';

import { allBeds, applyBoardEvent, indexBeds, isNewerEvent } from './board-data.ts';
import { makeBed, makeDepartment } from './testing/factories.ts';

function ward() {
  return [
    makeDepartment('MED', [
      makeBed({ id: 1, code: 'MED-1', roomCode: 'R1' }),
      makeBed({ id: 2, code: 'MED-2', roomCode: 'R1' }),
      makeBed({ id: 3, code: 'MED-3', roomCode: 'R2' }),
    ]),
    makeDepartment('SUR', [makeBed({ id: 4, code: 'SUR-1', roomCode: 'S1' })]),
  ];
}

describe('event ids', () => {
  it('compares ids as bigints, not as strings or doubles', () => {
    expect(isNewerEvent('10', '9')).toBe(true);
    expect(isNewerEvent('9', '10')).toBe(false);
    expect(isNewerEvent('9007199254740993', '9007199254740992')).toBe(true);
  });

  it('treats an equal id as old', () => {
    expect(isNewerEvent('42', '42')).toBe(false);
  });

  it('accepts any id before the first one is known', () => {
    expect(isNewerEvent('1', null)).toBe(true);
  });
});

describe('applying a board event', () => {
  it('replaces each touched bed by id with its new state', () => {
    const departments = ward();
    const index = indexBeds(departments);
    const admitted = makeBed({ id: 2, code: 'MED-2', roomCode: 'R1', status: 'occupied' });

    const outcome = applyBoardEvent(departments, index, '100', {
      id: '101',
      beds: [admitted],
    });

    expect(outcome.applied).toBe(true);
    expect(outcome.lastEventId).toBe('101');
    expect(outcome.departments[0]?.rooms[0]?.beds[1]).toEqual(admitted);
    expect([...allBeds(outcome.departments)].map((b) => b.status)).toEqual([
      'free',
      'occupied',
      'free',
      'free',
    ]);
  });

  it('keeps untouched departments and rooms as they were, so their tiles do not re-render', () => {
    const departments = ward();
    const index = indexBeds(departments);

    const outcome = applyBoardEvent(departments, index, '100', {
      id: '101',
      beds: [makeBed({ id: 3, roomCode: 'R2', status: 'blocked', reason: 'maintenance' })],
    });

    expect(outcome.departments[1]).toBe(departments[1]);
    expect(outcome.departments[0]?.rooms[0]).toBe(departments[0]?.rooms[0]);
    expect(outcome.departments[0]?.rooms[1]).not.toBe(departments[0]?.rooms[1]);
    expect(departments[0]?.rooms[1]?.beds[0]?.status).toBe('free');
  });

  it('applies a transfer that touches beds in two departments', () => {
    const departments = ward();
    const index = indexBeds(departments);

    const outcome = applyBoardEvent(departments, index, '100', {
      id: '101',
      beds: [makeBed({ id: 1, status: 'housekeeping' }), makeBed({ id: 4, status: 'occupied' })],
    });

    expect([...allBeds(outcome.departments)].map((b) => b.status)).toEqual([
      'housekeeping',
      'free',
      'free',
      'occupied',
    ]);
  });

  it('skips beds the board does not show, such as the other side of a transfer', () => {
    const departments = ward();
    const index = indexBeds(departments);

    const outcome = applyBoardEvent(departments, index, '100', {
      id: '101',
      beds: [makeBed({ id: 99, status: 'occupied' })],
    });

    expect(outcome.applied).toBe(true);
    expect(outcome.departments).toBe(departments);
    expect(outcome.lastEventId).toBe('101');
  });

  it('ignores a duplicate of the last applied event', () => {
    const departments = ward();
    const index = indexBeds(departments);

    const outcome = applyBoardEvent(departments, index, '101', {
      id: '101',
      beds: [makeBed({ id: 1, status: 'occupied' })],
    });

    expect(outcome).toEqual({ departments, lastEventId: '101', applied: false });
  });

  it('ignores an older event replayed after a reconnect, even one with fewer digits', () => {
    const departments = ward();
    const index = indexBeds(departments);

    const outcome = applyBoardEvent(departments, index, '100', {
      id: '99',
      beds: [makeBed({ id: 1, status: 'occupied' })],
    });

    expect(outcome.applied).toBe(false);
    expect(outcome.departments).toBe(departments);
    expect(outcome.lastEventId).toBe('100');
  });
});
