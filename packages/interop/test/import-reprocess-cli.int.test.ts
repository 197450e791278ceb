import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ensureSite } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importLocations, type ImportRejectionSummary } from '../src/index.ts';

const run = promisify(execFile);

let test: TestDatabase;
let scratch: string;
let runId: number;

beforeAll(async () => {
  test = await createTestDatabase('reprocess_cli');
  scratch = await mkdtemp(join(tmpdir(), 'medaxis-reprocess-cli-'));
  await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  const file = join(scratch, 'wards.csv');
  await writeFile(
    file,
    [
      'department,department_name,kind,room,bed',
      'A,Ward A,wrd,1,A-1',
      'B,Ward B,warde,1,B-1',
      'C,Ward C,ward,1,C 1',
    ].join('\n'),
  );
  runId = (await importLocations(test.db, { file })).runId;
});

afterAll(async () => {
  await test?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs `medaxis …`; a non-zero exit is returned, not thrown. */
async function medaxis(...args: string[]) {
  try {
    const { stdout, stderr } = await run('npx', ['medaxis', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: test.url },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('medaxis import rejections and import reprocess', () => {
  let open: ImportRejectionSummary[];

  it('lists the open rejections, with counts by kind and each one on a line', async () => {
    const listed = await medaxis('import', 'rejections', '--kind', 'locations');
    const json = await medaxis('import', 'rejections', '--run', String(runId), '--json');

    expect(listed.stdout).toContain('open rejections: fhir 0, synthea 0, mimic 0, locations 3');
    expect(listed.stdout).toMatch(/run \d+ +locations +wards\.csv:3 {2}bad_kind: The kind/);
    open = JSON.parse(json.stdout) as ImportRejectionSummary[];
    expect(open.map((r) => r.rowNumber)).toEqual([4, 3, 2]);
  });

  it('shows one rejection with its row, and applies an edited row from a file', async () => {
    const [, b] = open;
    const shown = JSON.parse((await medaxis('import', 'rejection', b!.id)).stdout) as {
      row: Record<string, string>;
    };
    const rowFile = join(scratch, 'fixed.json');
    await writeFile(rowFile, JSON.stringify({ ...shown.row, kind: 'ward' }));

    const result = await medaxis('import', 'reprocess', b!.id, '--row', rowFile);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`${b!.id} +applied +wards\\.csv:3 \\(edited row\\)`));
    expect(result.stdout).toContain('reprocessed 1: applied 1');
  });

  it('refuses a rejection already reprocessed, and exits 1', async () => {
    const result = await medaxis('import', 'reprocess', open[1]!.id);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/refused +already_reprocessed: Rejection \d+ was reprocessed/);
  });

  it('reprocesses a whole run, printing a row rejected again with its new rejection', async () => {
    const result = await medaxis('import', 'reprocess', '--run', String(runId));

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /rejected +wards\.csv:2 {2}bad_kind: .*\(kept as rejection \d+\)/,
    );
    expect(result.stdout).toContain('reprocessed 2: rejected 2');
  });

  it('says what it needs when given neither ids nor a run', async () => {
    const result = await medaxis('import', 'reprocess');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('give rejection ids or --run <n>, not both');
  });
});
