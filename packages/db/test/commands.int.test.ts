import {
  historyCommandOptions,
  liveCommandOptions,
  MedaxisError,
  type Command,
} from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  censusAt,
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  executeCommand,
  readEventsAfter,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;
let beds: number[];

const live = { source: 'test', options: liveCommandOptions(new Date()) };

async function newEncounter() {
  const patientId = await createAnonymousPatient(test.db);
  return ensureEncounter(test.db, { patientId, class: 'inpatient' });
}

async function run(command: Command) {
  return executeCommand(test.db, command, {
    source: 'test',
    options: liveCommandOptions(new Date()),
  });
}

beforeAll(async () => {
  test = await createTestDatabase('commands');
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  const ward = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Medicine',
    kind: 'ward',
  });
  const room = await ensureRoom(test.db, ward, '01');
  const since = new Date(Date.now() - 86_400_000);
  beds = [];
  for (const code of ['MED-01-A', 'MED-01-B', 'MED-01-C']) {
    beds.push(await ensureBed(test.db, { roomId: room, code, since }));
  }
});

afterAll(async () => {
  await test?.drop();
});

describe('executeCommand', () => {
  it('admits, transfers and discharges through the domain and logs one event each', async () => {
    const encounterId = await newEncounter();
    const before = await censusAt(test.db);
    const t0 = Date.now() - 3_600_000;

    const admitted = await run({ type: 'admit', encounterId, bedId: beds[0]!, at: new Date(t0) });
    expect(admitted.beds.map((b) => b.status)).toEqual(['occupied']);

    const moved = await run({
      type: 'transfer',
      encounterId,
      bedId: beds[1]!,
      at: new Date(t0 + 60_000),
    });
    expect(Object.fromEntries(moved.beds.map((b) => [b.code, b.status]))).toEqual({
      'MED-01-A': 'housekeeping',
      'MED-01-B': 'occupied',
    });

    const events = await readEventsAfter(test.db, '0');
    expect(events.map((e) => e.type)).toEqual(['admit', 'transfer']);
    expect(BigInt(events[1]!.id)).toBeGreaterThan(BigInt(events[0]!.id));

    const during = await censusAt(test.db, { at: new Date(t0 + 30_000) });
    expect(during[0]!.occupied).toBe(before[0]!.occupied + 1);

    await run({ type: 'discharge', encounterId, at: new Date(t0 + 120_000) });
    const after = await censusAt(test.db);
    expect(after[0]!.occupied).toBe(before[0]!.occupied);
  });

  it('restores the previous bed exactly when a transfer is cancelled', async () => {
    const encounterId = await newEncounter();
    await run({ type: 'cleaning-finished', bedId: beds[0]!, at: new Date() }).catch(() => {});
    await run({ type: 'cleaning-finished', bedId: beds[1]!, at: new Date() }).catch(() => {});
    const admittedAt = new Date();
    await run({ type: 'admit', encounterId, bedId: beds[0]!, at: admittedAt });
    await run({ type: 'transfer', encounterId, bedId: beds[1]!, at: new Date() });
    const result = await run({ type: 'cancel-transfer', encounterId, at: new Date() });

    const byCode = Object.fromEntries(result.beds.map((b) => [b.code, b]));
    expect(byCode['MED-01-A']!.status).toBe('occupied');
    expect(new Date(byCode['MED-01-A']!.since).getTime()).toBe(admittedAt.getTime());
    expect(byCode['MED-01-B']!.status).toBe('free');
    const stays = await test.db.query(
      `SELECT bed_id, end_at, cancelled FROM bed_stay WHERE encounter_id = $1 ORDER BY id`,
      [encounterId],
    );
    expect(stays.rows).toEqual([
      { bed_id: beds[0], end_at: null, cancelled: false },
      { bed_id: beds[1], end_at: null, cancelled: true },
    ]);
  });

  it('lets exactly one of many simultaneous admits into one bed win', async () => {
    const encounters = await Promise.all(Array.from({ length: 12 }, () => newEncounter()));
    const bedId = beds[2]!;
    const results = await Promise.allSettled(
      encounters.map((encounterId) => run({ type: 'admit', encounterId, bedId, at: new Date() })),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const failure of lost) {
      expect(failure.reason).toBeInstanceOf(MedaxisError);
      expect((failure.reason as MedaxisError).code).toBe('CONFLICT');
      expect((failure.reason as MedaxisError).reason).toBe('bed_occupied');
    }
    const open = await test.db.query(
      `SELECT count(*)::int AS n FROM bed_stay WHERE bed_id = $1 AND end_at IS NULL`,
      [bedId],
    );
    expect(open.rows[0].n).toBe(1);
  });

  it('changes nothing when the domain refuses a command', async () => {
    const encounterId = await newEncounter();
    const lastBefore = (await readEventsAfter(test.db, '0', 10_000)).length;
    await expect(run({ type: 'discharge', encounterId, at: new Date() })).rejects.toMatchObject({
      code: 'CONFLICT',
      reason: 'not_in_bed',
    });
    await expect(
      executeCommand(
        test.db,
        { type: 'admit', encounterId, bedId: beds[0]!, at: new Date(Date.now() + 86_400_000) },
        live,
      ),
    ).rejects.toMatchObject({ code: 'BAD_EVENT_TIME', reason: 'future_event' });
    expect((await readEventsAfter(test.db, '0', 10_000)).length).toBe(lastBefore);
  });

  it('refuses overlapping history through the exclusion constraint', async () => {
    const first = await newEncounter();
    const second = await newEncounter();
    const history = { source: 'test', options: historyCommandOptions(new Date()) };
    const room = await test.db.query(`SELECT room_id FROM bed WHERE id = $1`, [beds[0]]);
    const bedId = await ensureBed(test.db, {
      roomId: room.rows[0].room_id,
      code: 'MED-01-H',
      since: new Date('2150-01-01T00:00:00Z'),
    });
    await executeCommand(
      test.db,
      { type: 'admit', encounterId: first, bedId, at: new Date('2150-01-02T00:00:00Z') },
      history,
    );
    await executeCommand(
      test.db,
      { type: 'discharge', encounterId: first, at: new Date('2150-01-05T00:00:00Z') },
      history,
    );
    // Writing a stay directly into that period is what the constraint exists to refuse.
    await expect(
      test.db.query(
        `INSERT INTO bed_stay (encounter_id, bed_id, start_at, end_at)
         VALUES ($1, $2, '2150-01-03', '2150-01-04')`,
        [second, bedId],
      ),
    ).rejects.toMatchObject({ code: '23P01' });
  });
});
