import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  executeCommand,
  type Db,
} from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { historyCommandOptions, liveCommandOptions, type Command } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

const hour = 3_600_000;
const now = Date.now();
/** Before the ICU bed was blocked. */
const beforeBlock = new Date(now - 2 * hour);

let live: TestDatabase;
let shifted: TestDatabase;

/** Runs the real CLI on `database`; a failure resolves too, with its exit code and stderr. */
async function medaxis(database: TestDatabase, ...args: string[]) {
  return run('npx', ['medaxis', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: database.url },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      out: error.stdout,
      err: error.stderr,
    }),
  );
}

async function censusJson(database: TestDatabase, ...args: string[]) {
  const result = await medaxis(database, 'census', '--json', ...args);
  expect(result.err).not.toMatch(/medaxis:/);
  return JSON.parse(result.out) as Record<string, unknown>[];
}

async function ward(db: Db, code: string, beds: number, since: Date) {
  const site = await ensureSite(db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  const department = await ensureDepartment(db, site, { code, name: code, kind: 'ward' });
  const room = await ensureRoom(db, department, '01');
  const ids: number[] = [];
  for (const letter of 'ABCD'.slice(0, beds)) {
    ids.push(await ensureBed(db, { roomId: room, code: `${code}-01-${letter}`, since }));
  }
  return ids;
}

async function admit(db: Db, bedId: number, at: Date, history = false) {
  const encounterId = await ensureEncounter(db, {
    patientId: await createAnonymousPatient(db),
    class: 'inpatient',
  });
  await execute(db, { type: 'admit', encounterId, bedId, at }, history);
  return encounterId;
}

async function execute(db: Db, command: Command, history = false) {
  const options = history ? historyCommandOptions(new Date()) : liveCommandOptions(new Date());
  await executeCommand(db, command, { source: 'test', options });
}

beforeAll(async () => {
  // Now: ICU 2 of 3 open beds (one of its 4 blocked an hour ago), MED 1 of 2.
  live = await createTestDatabase('cli_census');
  const since = new Date(now - 48 * hour);
  const icu = await ward(live.db, 'ICU', 4, since);
  const med = await ward(live.db, 'MED', 2, since);
  await admit(live.db, icu[0]!, new Date(now - 3 * hour));
  await admit(live.db, icu[1]!, new Date(now - 3 * hour));
  await admit(live.db, med[0]!, new Date(now - 3 * hour));
  await execute(live.db, {
    type: 'block',
    bedId: icu[3]!,
    reason: 'maintenance',
    at: new Date(now - hour),
  });

  // History dated ahead of the clock, as MIMIC's: one stay on 2150-06-01/02.
  shifted = await createTestDatabase('cli_census_shifted');
  const [bed] = await ward(shifted.db, 'MICU', 1, new Date('2150-01-01T00:00:00Z'));
  const encounterId = await admit(shifted.db, bed!, new Date('2150-06-01T10:00:00Z'), true);
  await execute(
    shifted.db,
    { type: 'discharge', encounterId, at: new Date('2150-06-02T10:00:00Z') },
    true,
  );
});

afterAll(async () => {
  await live?.drop();
  await shifted?.drop();
});

describe('medaxis census', () => {
  it('takes a department code in any case, as the board takes /board/icu', async () => {
    // Fault from a first-run trial: `census --department icu` said "No department icu".
    const rows = await censusJson(live, '--department', 'icu');

    expect(rows.map((row) => row.department)).toEqual(['ICU']);
  });

  it('divides occupied by open beds, as the wall board: a blocked bed is no capacity', async () => {
    // Fault: the CLI printed occupied / all beds (50 % here) where the board showed 67 %.
    const json = await censusJson(live);
    const text = await medaxis(live, 'census');

    expect(json).toEqual([
      {
        department: 'ICU',
        name: 'ICU',
        occupied: 2,
        beds: 4,
        blocked: 1,
        open: 3,
        occupancyPercent: 67,
      },
      {
        department: 'MED',
        name: 'MED',
        occupied: 1,
        beds: 2,
        blocked: 0,
        open: 2,
        occupancyPercent: 50,
      },
    ]);
    expect(text.out.split('\n').slice(1, 5)).toEqual([
      'department  name  occupied  open beds  blocked  beds  occupancy',
      'ICU         ICU          2          3        1     4        67%',
      'MED         MED          1          2        0     2        50%',
      'total                    3          5        1     6        60%',
    ]);
    expect(text.out).toContain(
      'occupancy 60%: 3 of 5 open beds occupied (1 of 6 beds blocked, not counted as open)',
    );
  });

  it('counts the beds blocked at a past instant, not those blocked now', async () => {
    const rows = await censusJson(live, '--department', 'ICU', '--at', beforeBlock.toISOString());

    expect(rows).toEqual([
      expect.objectContaining({ occupied: 2, beds: 4, blocked: 0, open: 4, occupancyPercent: 50 }),
    ]);
  });

  it('refuses a future instant where the recorded history ends now', async () => {
    // Fault: `census --at 2150-…` on the demo counted today's open stays as if in 2150.
    const result = await medaxis(live, 'census', '--at', '2150-06-01T12:00:00Z');

    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toContain(
      'medaxis: --at 2150-06-01T12:00:00.000Z is in the future and after the last recorded ' +
        'bed stay: the census counts what was recorded, it does not forecast. ' +
        'Give an instant up to ',
    );
  });

  it('counts a future instant inside history dated ahead (MIMIC), not one after it', async () => {
    const inside = await censusJson(
      shifted,
      '--at',
      '2150-06-01T12:00:00Z',
      '--department',
      'micu',
    );
    const after = await medaxis(shifted, 'census', '--at', '2150-06-03T00:00:00Z');

    expect(inside).toEqual([expect.objectContaining({ department: 'MICU', occupied: 1 })]);
    expect(after.code).toBe(1);
    expect(after.err).toContain('Give an instant up to 2150-06-02T10:00:00.000Z.');
  });
});
