import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importMimic, type ImportReport } from '../src/index.ts';
import { writeTransfersFixture } from './fixture.ts';

// In 2150, New York leaves winter time on Sunday 8 March (02:00 → 03:00) and returns to it
// on Sunday 1 November (02:00 → 01:00).
const rows = [
  '9,900,9001,admit,Medicine,2150-01-10 10:00:00,2150-01-10 12:00:00',
  '9,900,9002,discharge,,2150-01-10 12:00:00,',
  // 02:30 does not exist that night: read as 03:30 EDT, on both rows that share it.
  '9,901,9011,admit,Medicine,2150-03-08 01:00:00,2150-03-08 02:30:00',
  '9,901,9012,transfer,Neurology,2150-03-08 02:30:00,2150-03-08 04:00:00',
  '9,901,9013,discharge,,2150-03-08 04:00:00,',
  // 01:50 and 01:10 happen twice that night; both are read as the first (EDT), which makes
  // this stay end before it starts: refused rather than guessed.
  '9,902,9021,admit,Medicine,2150-11-01 01:50:00,2150-11-01 01:10:00',
  '9,902,9022,discharge,,2150-11-01 01:10:00,',
];

let test: TestDatabase;
let fixture: ReturnType<typeof writeTransfersFixture>;
let report: ImportReport;

beforeAll(async () => {
  test = await createTestDatabase('mimic_time_zone');
  fixture = writeTransfersFixture(rows);
  report = await importMimic(test.db, { dir: fixture.dir, timeZone: 'America/New_York' });
});

afterAll(async () => {
  fixture?.remove();
  await test?.drop();
});

describe('MIMIC timestamps read in the zone given by --tz', () => {
  it('places stays at the instants the wall times meant in that zone', async () => {
    const { rows: stays } = await test.db.query<{ ref: string; startAt: Date; endAt: Date }>(
      `SELECT e.source_ref AS ref, s.start_at AS "startAt", s.end_at AS "endAt"
         FROM bed_stay s JOIN encounter e ON e.id = s.encounter_id
        ORDER BY s.start_at`,
    );

    expect(stays.map((s) => [s.ref, s.startAt.toISOString(), s.endAt.toISOString()])).toEqual([
      ['900', '2150-01-10T15:00:00.000Z', '2150-01-10T17:00:00.000Z'],
      ['901', '2150-03-08T06:00:00.000Z', '2150-03-08T07:30:00.000Z'],
      ['901', '2150-03-08T07:30:00.000Z', '2150-03-08T08:00:00.000Z'],
    ]);
  });

  it('counts the wall times a DST change made ambiguous, and refuses a stay they reverse', () => {
    expect(report.warnings.dstResolvedTimes).toBe(5);
    expect(report.rejectedByReason).toEqual({ discharge_without_stay: 1, negative_stay: 1 });
  });

  it('refuses an unknown zone before writing anything', async () => {
    const runs = await test.db.query(`SELECT count(*)::int AS n FROM import_run`);

    await expect(
      importMimic(test.db, { dir: fixture.dir, timeZone: 'Mars/Olympus_Mons' }),
    ).rejects.toMatchObject({ code: 'VALIDATION', reason: 'unknown_time_zone' });

    const after = await test.db.query(`SELECT count(*)::int AS n FROM import_run`);
    expect(after.rows[0].n).toBe(runs.rows[0].n);
  });
});
