import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { censusAt } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importMimic } from '../src/index.ts';
import { demoDir, hasDemo, readDemoTransfers, skipNote, stayRows } from './demo-transfers.ts';
import { readReplayedEvents } from './replay-order.ts';

const run = promisify(execFile);

let test: TestDatabase;

/** Runs the real CLI, as a user would, on the test database. */
async function medaxis(...args: string[]) {
  const { stdout } = await run('npx', ['medaxis', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: test.url },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

beforeAll(async () => {
  if (!hasDemo) return;
  test = await createTestDatabase('mimic_cli');
  await importMimic(test.db, { dir: demoDir });
});

afterAll(async () => {
  await test?.drop();
});

describe.skipIf(!hasDemo)(`medaxis CLI on the MIMIC demo${skipNote}`, () => {
  it('census --json prints what censusAt computes, per department, with open beds', async () => {
    const busy = stayRows(readDemoTransfers()).find((row) => row.careUnit === 'Medicine')!;
    const at = new Date(Math.floor((busy.inAt + busy.outAt) / 2));

    const printed: unknown = JSON.parse(
      await medaxis('census', '--json', '--at', at.toISOString()),
    );

    const expected = await censusAt(test.db, { at });
    // The CLI adds blocked, open and occupancyPercent (the board's denominator) to each row.
    expect(printed).toEqual(expected.map((row): unknown => expect.objectContaining(row)));
    expect(expected.find((row) => row.name === 'Medicine')!.occupied).toBeGreaterThan(0);
    for (const row of expected) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['department', 'occupied', 'beds']));
    }
  });

  it('census --department narrows to one department', async () => {
    const printed: unknown = JSON.parse(await medaxis('census', '--json', '--department', 'MED'));

    const expected = await censusAt(test.db, { departmentCode: 'MED' });
    expect(printed).toEqual(expected.map((row): unknown => expect.objectContaining(row)));
    expect(printed).toHaveLength(1);
  });

  it('census --department with an unknown code fails with a message, not a table', async () => {
    // Fault found by a first-run trial: it printed "total 0 0 -" and exited 0.
    await expect(medaxis('census', '--department', 'NOPE')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No department NOPE'),
    });
  });

  it('import mimic again prints a report that applies nothing and duplicates nothing', async () => {
    const report = JSON.parse(await medaxis('import', 'mimic', demoDir, '--json')) as {
      rows: Record<string, number>;
    };

    expect(report.rows).toMatchObject({ applied: 0, alreadyImported: 1190, rejected: 0 });
  });

  it('replay --limit plays events in time order after an import, beside its history', async () => {
    const imported = await staysBySource();

    const output = await medaxis('replay', 'mimic', demoDir, '--speed', '1e12', '--limit', '25');

    const runId = /^replay (\S+):/m.exec(output)![1]!;
    const replayed = await readReplayedEvents(test.db, runId, readDemoTransfers());
    expect(replayed).toHaveLength(25);
    for (let i = 1; i < replayed.length; i++) {
      expect(replayed[i]!.at).toBeGreaterThanOrEqual(replayed[i - 1]!.at);
    }
    const after = await staysBySource();
    expect(after.get('mimic')).toEqual(imported.get('mimic'));
    expect(after.get('mimic-replay')!.stays).toBeGreaterThan(0);
    expect(after.get('mimic-replay')!.departments.every((code) => code.startsWith('REPLAY-'))).toBe(
      true,
    );
    // Each played admission, transfer and discharge is audited as the system's write.
    const { rows } = await test.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_event
        WHERE source = 'replay' AND action = 'write' AND cardinality(patient_ids) > 0`,
    );
    expect(rows[0]!.n).toBeGreaterThanOrEqual(25);
  });
});

/** Stays and the departments they lie in, by the source system of their encounters. */
async function staysBySource() {
  const { rows } = await test.db.query<{ source: string; stays: number; departments: string[] }>(
    `SELECT e.source_system AS source, count(*)::int AS stays,
            array_agg(DISTINCT d.code ORDER BY d.code) AS departments
       FROM bed_stay s JOIN encounter e ON e.id = s.encounter_id
       JOIN bed b ON b.id = s.bed_id JOIN room r ON r.id = b.room_id
       JOIN department d ON d.id = r.department_id
      GROUP BY e.source_system`,
  );
  return new Map(rows.map((row) => [row.source, row]));
}
