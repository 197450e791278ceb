import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { ensureBed, ensureDepartment, ensureRoom, ensureSite } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { isMedaxisError } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importLocations, type LocationsReport } from '../src/index.ts';

const run = promisify(execFile);
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const good = join(fixtures, 'locations-good.csv');
const bad = join(fixtures, 'locations-bad.csv');

let test: TestDatabase;
let scratch: string;

beforeAll(async () => {
  test = await createTestDatabase('locations');
  scratch = mkdtempSync(join(tmpdir(), 'medaxis-locations-'));
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  // What a feed leaves behind: a department and bed created on first use, waiting for review.
  const med = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Medicine',
    kind: 'ward',
  });
  const room = await ensureRoom(test.db, med, '01');
  await ensureBed(test.db, { roomId: room, code: 'MED-01-A' });
  const feed = await ensureDepartment(test.db, site, {
    code: 'CARD',
    name: 'CARD',
    kind: 'other',
    sortOrder: 1000,
    needsReview: true,
  });
  const feedRoom = await ensureRoom(test.db, feed, '01');
  await ensureBed(test.db, { roomId: feedRoom, code: 'CARD-01-A', needsReview: true });
});

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await test?.drop();
});

/** Everything the import can change, as text, to compare before and after. */
async function locations() {
  const { rows } = await test.db.query<{ line: string }>(
    `SELECT concat_ws(' ', d.code, d.name, d.kind, d.sort_order, d.needs_review::text,
                      r.code, b.code, b.type, array_to_string(b.tags, ';'),
                      b.needs_review::text, b.status) AS line
       FROM department d LEFT JOIN room r ON r.department_id = d.id
       LEFT JOIN bed b ON b.room_id = r.id
      ORDER BY d.code, r.code, b.code`,
  );
  return rows.map((row) => row.line);
}

describe('CSV import of departments, rooms and beds', () => {
  let first: LocationsReport;

  it('creates what is new and configures what a feed created for review', async () => {
    first = await importLocations(test.db, { file: good });

    expect(first.rows).toEqual({ read: 7, applied: 7, unchanged: 0, rejected: 0 });
    expect(first.created).toEqual({ departments: 2, rooms: 4, beds: 4 });
    expect(first.updated).toEqual({ departments: 1, beds: 1 });
    expect(await locations()).toEqual([
      'CARD Cardiology ward 10 false 01 CARD-01-A standard telemetry false free',
      'CARD Cardiology ward 10 false 01 CARD-01-B standard telemetry;window false free',
      'CARD Cardiology ward 10 false 02 CARD-02-A bariatric  false free',
      'CCU Coronary Care icu 11 false 1 CCU-1 icu monitor;ventilator false free',
      'CCU Coronary Care icu 11 false 2 CCU-2 icu monitor false free',
      'DAY Day Clinic clinic 20 false LOUNGE',
      'MED Medicine ward 0 false 01 MED-01-A standard  false free',
    ]);
  });

  it('gives every new bed its first status interval, so the board and census count it', async () => {
    const { rows } = await test.db.query<{ code: string; intervals: number }>(
      `SELECT b.code, count(h.id)::int AS intervals FROM bed b
         JOIN bed_status_history h ON h.bed_id = b.id AND h.end_at IS NULL
        WHERE b.code LIKE 'CC%' GROUP BY b.code ORDER BY b.code`,
    );
    expect(rows).toEqual([
      { code: 'CCU-1', intervals: 1 },
      { code: 'CCU-2', intervals: 1 },
    ]);
  });

  it('changes nothing when the same file is imported again', async () => {
    const before = await locations();

    const again = await importLocations(test.db, { file: good });

    expect(again.rows).toEqual({ read: 7, applied: 0, unchanged: 7, rejected: 0 });
    expect(again.created).toEqual({ departments: 0, rooms: 0, beds: 0 });
    expect(again.updated).toEqual({ departments: 0, beds: 0 });
    expect(await locations()).toEqual(before);
  });

  it('reads a UTF-8 BOM, CRLF line ends, quoted commas and a header in any case', async () => {
    const report = await importLocations(test.db, {
      file: join(fixtures, 'locations-bom-crlf.csv'),
    });

    expect(report.rows).toMatchObject({ read: 2, applied: 2, rejected: 0 });
    const { rows } = await test.db.query(
      `SELECT d.name, b.code, b.tags FROM bed b JOIN room r ON r.id = b.room_id
         JOIN department d ON d.id = r.department_id WHERE d.code = 'ONC' ORDER BY b.code`,
    );
    expect(rows).toEqual([
      { name: 'Oncology, inpatient', code: 'ONC-A-1', tags: [] },
      { name: 'Oncology, inpatient', code: 'ONC-A-2', tags: ['isolation'] },
    ]);
  });

  it('updates a bed whose type or tags the file changes, and only that bed', async () => {
    const file = join(scratch, 'changed.csv');
    writeFileSync(file, 'department,room,bed,bed_type,tags\nCCU,1,CCU-1,icu,monitor\n');

    const report = await importLocations(test.db, { file });

    expect(report.rows).toMatchObject({ applied: 1, rejected: 0 });
    expect(report.updated).toEqual({ departments: 0, beds: 1 });
    expect((await locations()).filter((line) => line.includes('CCU-1'))).toEqual([
      'CCU Coronary Care icu 11 false 1 CCU-1 icu monitor false free',
    ]);
  });
});

const expectedRejections: [line: number, code: string][] = [
  [3, 'missing_department'],
  [4, 'wrong_column_count'],
  [5, 'bad_kind'],
  [6, 'department_conflict'],
  [7, 'duplicate_bed'],
  [8, 'missing_room'],
  [9, 'bad_sort_order'],
  [10, 'incomplete_department'],
  [11, 'bed_in_other_room'],
  [12, 'bad_bed_code'],
  [13, 'bad_tags'],
  [14, 'unreadable_row'],
];

describe('CSV import of rows that break the rules', () => {
  let report: LocationsReport;

  beforeAll(async () => {
    report = await importLocations(test.db, { file: bad });
  });

  it('applies the valid row and reports every other row with its reason', () => {
    expect(report.rows).toEqual({
      read: 13,
      applied: 1,
      unchanged: 0,
      rejected: expectedRejections.length,
    });
    expect(report.rejections.map((r) => [r.line, r.code])).toEqual(expectedRejections);
    for (const rejection of report.rejections) expect(rejection.reason.length).toBeGreaterThan(10);
    expect(report.rejections.find((r) => r.code === 'bed_in_other_room')!.reason).toBe(
      'Bed MED-01-A exists in MED room 01; an import does not move beds between rooms.',
    );
  });

  it('keeps each rejected row, as read, in import_rejection', async () => {
    const { rows } = await test.db.query<{
      file: string;
      rowNumber: number;
      row: Record<string, string>;
      code: string;
    }>(
      `SELECT file, row_number AS "rowNumber", row, code FROM import_rejection
        WHERE run_id = $1 ORDER BY row_number`,
      [report.runId],
    );

    expect(rows.map((r) => [r.rowNumber, r.code])).toEqual(expectedRejections);
    expect(rows.every((r) => r.file === 'locations-bad.csv')).toBe(true);
    expect(rows.find((r) => r.code === 'bad_kind')!.row).toMatchObject({
      department: 'PSY',
      kind: 'asylum',
      bed: 'PSY-01-A',
    });
    const { rows: run } = await test.db.query(
      `SELECT kind, applied, rejected, report->'rows' AS rows FROM import_run WHERE id = $1`,
      [report.runId],
    );
    expect(run[0]).toMatchObject({ kind: 'locations', applied: 1, rejected: 12 });
  });

  it('leaves the hospital as it was where a row was refused', async () => {
    const lines = await locations();

    expect(lines.filter((line) => line.startsWith('NEU'))).toEqual([
      'NEU Neurology ward 5 false 01 NEU-01-A standard  false free',
    ]);
    expect(lines.some((line) => /^(PSY|REH|NEW|ORT) /.test(line))).toBe(false);
    expect(lines.filter((line) => line.includes('MED-01-A'))).toEqual([
      'MED Medicine ward 0 false 01 MED-01-A standard  false free',
    ]);
  });

  it('stores a rejected row once however often the file is imported', async () => {
    const again = await importLocations(test.db, { file: bad });

    expect(again.rows).toMatchObject({ applied: 0, unchanged: 1, rejected: 12 });
    expect(again.rejectionsAlreadyKept).toBe(12);
    const { rows } = await test.db.query(
      `SELECT count(*)::int AS n FROM import_rejection r JOIN import_run u ON u.id = r.run_id
        WHERE u.kind = 'locations' AND r.file = 'locations-bad.csv'`,
    );
    expect(rows[0].n).toBe(12);
  });

  it('marks a rejected row reprocessed once a fixed file applies its location', async () => {
    const dir = mkdtempSync(join(scratch, 'fixed-'));
    const file = join(dir, 'locations-bad.csv');
    // The row refused for its kind (asylum), with a kind MedAxis knows.
    writeFileSync(
      file,
      'department,department_name,kind,room,bed\nPSY,Psychiatry,ward,01,PSY-01-A\n',
    );

    const fixed = await importLocations(test.db, { file });

    expect(fixed.rows).toMatchObject({ applied: 1, rejected: 0 });
    expect(fixed.rejectionsResolved).toBe(1);
    const { rows } = await test.db.query<{ code: string; reprocessed: boolean }>(
      `SELECT code, reprocessed_at IS NOT NULL AS reprocessed FROM import_rejection
        WHERE row->>'bed' = 'PSY-01-A'`,
    );
    expect(rows).toEqual([{ code: 'bad_kind', reprocessed: true }]);
  });

  it('refuses a file that is not a locations file as a whole, writing nothing', async () => {
    const file = join(scratch, 'wrong.csv');
    writeFileSync(file, 'ward,bed\nMED,MED-09-A\n');
    const before = await locations();

    const error: unknown = await importLocations(test.db, { file }).catch((e: unknown) => e);

    expect(isMedaxisError(error) && error.reason).toBe('bad_locations_file');
    expect(await locations()).toEqual(before);
  });
});

describe('medaxis import locations', () => {
  it('prints the report, per-row errors included, and no progress bar when piped', async () => {
    const file = join(scratch, 'locations-bad.csv');
    copyFileSync(bad, file);

    const { stdout, stderr } = await run('npx', ['medaxis', 'import', 'locations', file], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: test.url },
    });

    expect(stdout).toContain('13 read: 0 applied, 1 unchanged, 12 rejected');
    expect(stdout).toMatch(/line +5 {2}bad_kind: The kind is none of/);
    // The bad kind was fixed and reprocessed meanwhile: the old row is kept again, once.
    expect(stdout).toContain('(11 already kept by an earlier run)');
    expect(stderr).not.toContain('importing');
  });

  it('prints the report as JSON with --json', async () => {
    // An earlier test changed CCU-1's tags: the file brings them back, and changes nothing else.
    const { stdout } = await run('npx', ['medaxis', 'import', 'locations', good, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: test.url },
    });

    const printed = JSON.parse(stdout) as LocationsReport;
    expect(printed.rows).toEqual({ read: 7, applied: 1, unchanged: 6, rejected: 0 });
    expect(printed.updated).toEqual({ departments: 0, beds: 1 });
  });
});
