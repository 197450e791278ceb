import { liveCommandOptions } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  applyCommand,
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  executeCommand,
  findFeedContext,
  stageCommand,
  withTransaction,
  type Tx,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;
let beds: number[];

beforeAll(async () => {
  test = await createTestDatabase('feed_encounter');
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  const ward = await ensureDepartment(test.db, site, { code: 'MED', name: 'Med', kind: 'ward' });
  const room = await ensureRoom(test.db, ward, '01');
  const since = new Date(Date.now() - 86_400_000);
  beds = [];
  for (const code of ['MED-01-A', 'MED-01-B']) {
    beds.push(await ensureBed(test.db, { roomId: room, code, since }));
  }
});

afterAll(async () => {
  await test?.drop();
});

describe("the feed's lookup of a visit", () => {
  it('sees the transfer it waited for (the lock used to read the stays it held back)', async () => {
    const patientId = await createAnonymousPatient(test.db);
    const encounterId = await ensureEncounter(test.db, {
      patientId,
      class: 'inpatient',
      sourceSystem: 'hl7:T',
      sourceRef: 'V1',
    });
    const options = { source: 'test', options: liveCommandOptions(new Date()) };
    const admittedAt = new Date(Date.now() - 3_600_000);
    await executeCommand(
      test.db,
      { type: 'admit', encounterId, bedId: beds[0]!, at: admittedAt },
      options,
    );

    // A transfer holds the visit's lock while a feed message asks where the visit lies.
    const transfer = await test.db.connect();
    await transfer.query('BEGIN');
    const transferredAt = new Date(Date.now() - 60_000);
    await applyCommand(
      transfer,
      { type: 'transfer', encounterId, bedId: beds[1]!, at: transferredAt },
      options,
    );
    const asked = withTransaction(test.db, async (tx) => {
      const visit = { sourceSystem: 'hl7:T', sourceRef: 'V1' };
      return (await findFeedContext(tx, { authority: 'T', mrn: 'none' }, null, visit)).encounter;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await transfer.query('COMMIT');
    transfer.release();
    const state = await asked;

    expect(state).toMatchObject({ id: encounterId, bedId: beds[1] });
    expect(state?.lastBedChangeAt?.getTime()).toBe(transferredAt.getTime());
  });
});

describe("the world the feed's lookup loads for a bed command", () => {
  const options = { source: 'test', options: liveCommandOptions(new Date()) };
  /** Beds of their own (the tests above leave theirs waiting for housekeeping). */
  let own: number[];

  beforeAll(async () => {
    const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
    const ward = await ensureDepartment(test.db, site, { code: 'MED', name: 'Med', kind: 'ward' });
    const room = await ensureRoom(test.db, ward, '02');
    const since = new Date(Date.now() - 86_400_000);
    own = [];
    for (const code of ['MED-02-A', 'MED-02-B', 'MED-02-C']) {
      own.push(await ensureBed(test.db, { roomId: room, code, since }));
    }
  });

  /** Counts the round trips a connection makes while `work` runs. */
  async function countingRoundTrips<T>(tx: Tx, work: () => Promise<T>) {
    const query = tx.query.bind(tx) as (...args: unknown[]) => unknown;
    let trips = 0;
    Object.assign(tx, {
      query: (...args: unknown[]) => {
        trips++;
        return query(...args);
      },
    });
    try {
      return { result: await work(), trips };
    } finally {
      Object.assign(tx, { query });
    }
  }

  it('holds the visit as a transfer it waited for left it, and serves the command', async () => {
    const patientId = await createAnonymousPatient(test.db);
    const encounterId = await ensureEncounter(test.db, {
      patientId,
      class: 'inpatient',
      sourceSystem: 'hl7:T',
      sourceRef: 'W1',
    });
    await executeCommand(
      test.db,
      { type: 'admit', encounterId, bedId: own[0]!, at: new Date(Date.now() - 3_000_000) },
      options,
    );

    // A transfer holds the visit's lock while the lookup (with its world) waits for it.
    const transfer = await test.db.connect();
    await transfer.query('BEGIN');
    await applyCommand(
      transfer,
      { type: 'transfer', encounterId, bedId: own[1]!, at: new Date(Date.now() - 120_000) },
      options,
    );
    const discharged = withTransaction(test.db, async (tx) => {
      const visit = { sourceSystem: 'hl7:T', sourceRef: 'W1' };
      const { world } = await findFeedContext(tx, { authority: 'T', mrn: 'none' }, null, visit, {
        bedCode: 'MED-02-B',
      });
      const at = new Date(Date.now() - 60_000);
      const staged = await countingRoundTrips(tx, () =>
        stageCommand(tx, { type: 'discharge', encounterId, at }, options, world),
      );
      return { world, staged };
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await transfer.query('COMMIT');
    transfer.release();
    const { world, staged } = await discharged;

    // The stays and beds as the transfer left them, both beds locked.
    const stays = world!.world.encounters.get(encounterId)!.stays;
    expect(stays.map((stay) => [stay.bedId, stay.endAt === null])).toEqual([
      [own[0], false],
      [own[1], true],
    ]);
    expect([...world!.world.beds.keys()].sort()).toEqual([own[0], own[1]].sort());
    expect(world!.world.beds.get(own[1]!)).toMatchObject({ status: 'occupied', encounterId });
    // The command wrote in one round trip, loading nothing, and left the right bed.
    expect(staged.trips).toBe(1);
    expect(staged.result.beds).toEqual([
      expect.objectContaining({ id: own[1], status: 'housekeeping' }),
    ]);
  });

  it('is not used for a command on a bed it does not hold: the command loads its own', async () => {
    const patientId = await createAnonymousPatient(test.db);
    const encounterId = await ensureEncounter(test.db, {
      patientId,
      class: 'inpatient',
      sourceSystem: 'hl7:T',
      sourceRef: 'W2',
    });
    const { staged, bedsHeld } = await withTransaction(test.db, async (tx) => {
      const visit = { sourceSystem: 'hl7:T', sourceRef: 'W2' };
      // PV1-3 named no bed the hospital has.
      const { world } = await findFeedContext(tx, { authority: 'T', mrn: 'none' }, null, visit, {
        bedCode: 'NOT-A-BED',
      });
      const at = new Date(Date.now() - 30_000);
      const staged = await countingRoundTrips(tx, () =>
        stageCommand(tx, { type: 'admit', encounterId, bedId: own[2]!, at }, options, world),
      );
      return { staged, bedsHeld: world!.world.beds.size };
    });

    expect(bedsHeld).toBe(0);
    expect(staged.trips).toBe(2);
    expect(staged.result.beds).toEqual([
      expect.objectContaining({ id: own[2], status: 'occupied' }),
    ]);
  });
});
