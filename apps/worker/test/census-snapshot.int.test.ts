import { Writable } from 'node:stream';

import {
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  executeCommand,
} from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { historyCommandOptions } from '@medaxis/domain';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { censusSlot, censusSnapshotJob, takeCensusSnapshot } from '../src/census-snapshot.ts';
import { createLogger } from '../src/logger.ts';
import { registerJobs } from '../src/worker.ts';

let test: TestDatabase;
const hour = 3_600_000;
const admittedAt = new Date(Date.now() - 10 * hour);

async function admit(bedId: number, at: Date) {
  const patientId = await createAnonymousPatient(test.db);
  const encounterId = await ensureEncounter(test.db, { patientId, class: 'inpatient' });
  await executeCommand(
    test.db,
    { type: 'admit', encounterId, bedId, at },
    { source: 'test', options: historyCommandOptions(new Date()) },
  );
  return encounterId;
}

/** Snapshot rows taken at `takenAt`, or at any instant from it on with `andLater`. */
async function snapshotRows(takenAt: Date, andLater = false) {
  const { rows } = await test.db.query<{ code: string; occupied: number; beds: number }>(
    `SELECT d.code, s.occupied, s.beds
       FROM census_snapshot s JOIN department d ON d.id = s.department_id
      WHERE s.taken_at = $1 OR ($2 AND s.taken_at > $1) ORDER BY d.code`,
    [takenAt, andLater],
  );
  return rows;
}

beforeAll(async () => {
  test = await createTestDatabase('worker');
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'Europe/Berlin' });
  const since = new Date(Date.now() - 48 * hour);
  const medicine = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Med',
    kind: 'ward',
  });
  const icu = await ensureDepartment(test.db, site, { code: 'ICU', name: 'ICU', kind: 'icu' });
  const medRoom = await ensureRoom(test.db, medicine, '001');
  const icuRoom = await ensureRoom(test.db, icu, '001');
  const beds = [];
  for (const code of ['MED-001-A', 'MED-001-B', 'MED-001-C']) {
    beds.push(await ensureBed(test.db, { roomId: medRoom, code, since }));
  }
  const icuBed = await ensureBed(test.db, { roomId: icuRoom, code: 'ICU-001-A', since });

  await admit(beds[0]!, admittedAt);
  await admit(beds[1]!, new Date(admittedAt.getTime() + 2 * hour));
  await admit(icuBed, new Date(admittedAt.getTime() + 4 * hour));
});

afterAll(async () => {
  await test?.drop();
});

describe('census snapshot job', () => {
  it('stores each department census at the instant, counted from bed stays', async () => {
    const takenAt = new Date(admittedAt.getTime() + 3 * hour);

    const stored = await takeCensusSnapshot(test.db, takenAt);

    expect(stored).toBe(2);
    expect(await snapshotRows(takenAt)).toEqual([
      { code: 'ICU', occupied: 0, beds: 1 },
      { code: 'MED', occupied: 2, beds: 3 },
    ]);
  });

  it('keeps the first snapshot when a job for the same instant runs again', async () => {
    const takenAt = new Date(admittedAt.getTime() + 5 * hour);
    await takeCensusSnapshot(test.db, takenAt);

    const storedAgain = await takeCensusSnapshot(test.db, takenAt);

    expect(storedAgain).toBe(0);
    expect(await snapshotRows(takenAt)).toEqual([
      { code: 'ICU', occupied: 1, beds: 1 },
      { code: 'MED', occupied: 2, beds: 3 },
    ]);
  });

  it('stands for the quarter hour in which the job was created', () => {
    expect(censusSlot(new Date('2026-03-29T01:14:59.999Z')).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(censusSlot(new Date('2026-03-29T01:15:00.000Z')).toISOString()).toBe(
      '2026-03-29T01:15:00.000Z',
    );
  });

  it('runs through pg-boss, scheduled every 15 minutes in the hospital time zone', async () => {
    const logLines: string[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    const boss = new PgBoss({ connectionString: test.url });
    boss.on('error', () => {});
    await boss.start();
    try {
      await registerJobs({ boss, db: test.db, log, timeZone: 'America/New_York' });

      // The job stands for the quarter hour pg-boss created it in: this one or, at a boundary,
      // the next.
      const slot = censusSlot(new Date());
      await boss.send(censusSnapshotJob, {});
      await expect
        .poll(() => snapshotRows(slot, true), { timeout: 20_000, interval: 250 })
        .toEqual([
          { code: 'ICU', occupied: 1, beds: 1 },
          { code: 'MED', occupied: 2, beds: 3 },
        ]);

      const [schedule] = await boss.getSchedules(censusSnapshotJob);
      expect(schedule).toMatchObject({ cron: '*/15 * * * *', timezone: 'America/New_York' });
      const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({ msg: 'census snapshot taken', departments: 2, app: 'worker' }),
      );
    } finally {
      await boss.stop({ graceful: false });
    }
  });
});
