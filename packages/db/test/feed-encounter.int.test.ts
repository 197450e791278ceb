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
  withTransaction,
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
