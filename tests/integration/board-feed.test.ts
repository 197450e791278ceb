import { BoardCursor, boardEventIn, resolveBoardView, type BoardEvent } from '@medaxis/api';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { MedaxisError } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';

// The rules both board transports follow (packages/api board-feed.ts): tRPC's board.events
// and the wall displays' board stream. board-live and board-stream test them end to end.

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('board_feed');
  await seedSmallHospital(test.db);
});

afterAll(async () => {
  await test?.drop();
});

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MedaxisError);
  const { code, reason } = error as MedaxisError;
  return { code, reason };
}

describe('board view', () => {
  it('shows the whole hospital to an actor who may see every department', async () => {
    const view = await resolveBoardView(test.db, undefined, '*');

    expect(view.departments).toBeNull();
  });

  it('narrows the whole hospital to the departments in the actor’s scope', async () => {
    const view = await resolveBoardView(test.db, undefined, ['SUR', 'ED']);

    expect([...(view.departments ?? [])].sort()).toEqual(['ED', 'SUR']);
  });

  it('shows one department asked for within the scope', async () => {
    const view = await resolveBoardView(test.db, 'ED', ['ED', 'MED']);

    expect([...(view.departments ?? [])]).toEqual(['ED']);
  });

  it('gives boards that see the same departments one key, so they share each encoding', async () => {
    const keys = await Promise.all([
      resolveBoardView(test.db, undefined, ['SUR', 'ED']),
      resolveBoardView(test.db, undefined, ['ED', 'SUR']),
      resolveBoardView(test.db, 'ED', '*'),
      resolveBoardView(test.db, 'ED', ['ED']),
      resolveBoardView(test.db, undefined, '*'),
    ]).then((views) => views.map((v) => v.key));

    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).toBe(keys[3]);
    expect(new Set(keys).size).toBe(3);
  });

  it('refuses a department outside the scope before saying whether it exists', async () => {
    expect(await refusal(resolveBoardView(test.db, 'MED', ['ED']))).toEqual({
      code: 'FORBIDDEN',
      reason: 'department_not_in_scope',
    });
    expect(await refusal(resolveBoardView(test.db, 'NOPE', ['ED']))).toEqual({
      code: 'FORBIDDEN',
      reason: 'department_not_in_scope',
    });
  });

  it('refuses an actor whose scope holds no department', async () => {
    expect(await refusal(resolveBoardView(test.db, undefined, []))).toEqual({
      code: 'FORBIDDEN',
      reason: 'department_not_in_scope',
    });
  });

  it('says a department it may see does not exist', async () => {
    expect(await refusal(resolveBoardView(test.db, 'NOPE', '*'))).toEqual({
      code: 'NOT_FOUND',
      reason: 'unknown_department',
    });
  });
});

describe('board event in a view', () => {
  const bed = (id: number, departmentCode: string) => ({
    id,
    code: `${departmentCode}-${id}`,
    roomCode: '01',
    departmentCode,
    status: 'occupied' as const,
    since: '2026-12-03T10:00:00.000Z',
    reason: null,
    isolation: false,
    initials: null,
    expectedDischargeAt: null,
    admitDecisionAt: null,
  });
  // A transfer from the ED to a ward touches a bed on each side.
  const transfer: BoardEvent = {
    kind: 'event',
    id: '42',
    type: 'transfer',
    occurredAt: '2026-12-03T10:00:00.000Z',
    recordedAt: '2026-12-03T10:00:00.100Z',
    beds: [bed(1, 'ED'), bed(2, 'MED')],
  };

  it('is the whole event on the hospital board', async () => {
    const hospital = await resolveBoardView(test.db, undefined, '*');

    expect(boardEventIn(transfer, hospital)).toEqual(transfer);
  });

  it('is the department’s side of the event on its board', async () => {
    const med = boardEventIn(transfer, await resolveBoardView(test.db, 'MED', '*'));

    expect(med).toEqual({ ...transfer, beds: [bed(2, 'MED')] });
  });

  it('is nothing on the board of a department it does not touch', async () => {
    expect(boardEventIn(transfer, await resolveBoardView(test.db, 'SUR', '*'))).toBeUndefined();
  });
});

describe('board cursor', () => {
  it('passes each id once, in order, whatever overlap replay and live feed have', () => {
    const cursor = new BoardCursor('100');

    const passed = ['99', '100', '101', '101', '103', '102', '104'].filter((id) =>
      cursor.advance(id),
    );

    expect(passed).toEqual(['101', '103', '104']);
    expect(cursor.last).toBe(104n);
  });

  it('compares ids as numbers: 10 comes after 9', () => {
    const cursor = new BoardCursor('9');

    expect(cursor.advance('10')).toBe(true);
  });

  it('resumes after the last committed event when the board names none', async () => {
    const { rows } = await test.db.query<{ id: string }>(
      `SELECT last_id::text AS id FROM event_counter`,
    );

    const cursor = await BoardCursor.resume(test.db, undefined);

    expect(cursor.last).toBe(BigInt(rows[0]!.id));
    expect((await BoardCursor.resume(test.db, '7')).last).toBe(7n);
  });
});
