import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt, startHl7Stack, type Hl7Stack } from './hl7-support.ts';

let stack: Hl7Stack;
let dir: string;

/** Runs the real CLI as a user would; resolves with its exit code and output. */
function medaxis(...args: string[]) {
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      'npx',
      ['medaxis', ...args],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: stack.database.url } },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
}

const at = (minutes: number) => new Date(Date.now() - 3_600_000 + minutes * 60_000);

beforeAll(async () => {
  stack = await startHl7Stack();
  dir = await mkdtemp(join(tmpdir(), 'medaxis-hl7-'));
  const visit = { mrn: 'CLI-1', visit: 'CLI-V1', bed: 'MED-01-A' };
  // Name order sends the discharge before the admission it ends.
  await writeFile(
    join(dir, 'a-discharge.hl7'),
    adt({ ...visit, event: 'A03', controlId: 'D1', at: at(5) }),
  );
  await writeFile(
    join(dir, 'b-admit-and-update.hl7'),
    `\ufeff${adt({ ...visit, event: 'A01', controlId: 'A1', at: at(1) })}\n` +
      `${adt({ ...visit, event: 'A08', controlId: 'U1', at: at(2) }).replaceAll('\r', '\n')}\n`,
  );
  await writeFile(join(dir, 'notes.txt'), 'not sent: only *.hl7 files are');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await stack?.stop();
});

describe('medaxis hl7', () => {
  it('send: transmits each message of a folder and prints its ACK, exit 1 if any was refused', async () => {
    const { code, stdout } = await medaxis(
      'hl7',
      'send',
      dir,
      '--port',
      String(stack.listener.port),
    );

    expect(stdout.trim().split('\n')).toEqual([
      'a-discharge.hl7  AE  D1  unknown_encounter',
      'b-admit-and-update.hl7#1  AA  A1',
      'b-admit-and-update.hl7#2  AA  U1',
      'AE 1, AA 2',
    ]);
    expect(code).toBe(1);
  });

  it('list and reprocess --failed: the dead letter applies once its cause is gone', async () => {
    const listed = await medaxis('hl7', 'list', '--status', 'rejected');
    expect(listed.stdout).toMatch(/A03\s+rejected\s+AE\s+D1\s+unknown_encounter/);

    const { code, stdout } = await medaxis('hl7', 'reprocess', '--failed');

    expect(code).toBe(0);
    expect(stdout).toMatch(/AA {2}applied/);
    expect(stdout).toContain('reprocessed 1: applied 1');
    const { rows } = await stack.database.db.query(
      `SELECT s.end_at IS NOT NULL AS ended FROM bed_stay s
         JOIN encounter e ON e.id = s.encounter_id WHERE e.source_ref = 'CLI-V1'`,
    );
    expect(rows).toEqual([{ ended: true }]);
  });
});
