import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  emergencyEncounter,
  fhirSkipNote,
  realdata,
  hasFhirExamples,
  syntheaFhirDir,
  writeFixtureDir,
} from './fhir-fixture.ts';

const run = promisify(execFile);

let test: TestDatabase;
let fixtureDir: string;
let exportDir: string;

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
  if (!hasFhirExamples) return;
  test = await createTestDatabase('fhir_cli');
  fixtureDir = await writeFixtureDir();
  exportDir = await mkdtemp(join(tmpdir(), 'medaxis-cli-export-'));
});

afterAll(async () => {
  await test?.drop();
  for (const dir of [fixtureDir, exportDir]) {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

describe.skipIf(!hasFhirExamples)(`medaxis import fhir / export fhir${fhirSkipNote}`, () => {
  it('imports files and folders and prints what it applied and rejected, by reason', async () => {
    const out = await medaxis('import', 'fhir', syntheaFhirDir, fixtureDir, emergencyEncounter);
    expect(out).toMatch(/FHIR import run \d+: 5 file\(s\), 188 entries: 183 applied, 5 rejected/);
    expect(out).toContain('Encounter         4 read, 2 applied, 2 rejected');
    expect(out).toMatch(/unsupported_resource_type\s+1/);
    expect(out).toContain('rejected entries are kept in import_rejection');
    const { rows } = await test.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_event WHERE source = 'import:fhir'`,
    );
    expect(rows[0]!.n).toBe(4);
  });

  it('exports one NDJSON file per resource type, audited as an export', async () => {
    const out = await medaxis('export', 'fhir', exportDir);
    expect(out).toMatch(/Patient\.ndjson\s+2/);
    expect((await readdir(exportDir)).sort()).toEqual([
      'Encounter.ndjson',
      'Location.ndjson',
      'Organization.ndjson',
      'Patient.ndjson',
      'Practitioner.ndjson',
      'PractitionerRole.ndjson',
    ]);
    const encounters = (await readFile(join(exportDir, 'Encounter.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { resourceType: string; subject: { reference: string } });
    expect(encounters.every((e) => e.resourceType === 'Encounter')).toBe(true);
    expect(encounters.map((e) => e.subject.reference.startsWith('Patient/'))).toEqual([true, true]);
    const { rows } = await test.db.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_event WHERE source = 'export:fhir'
        GROUP BY action`,
    );
    expect(rows).toEqual([{ action: 'export', n: 2 }]);
  });

  it('imports a Synthea CSV folder and prints rows applied and rejected per file', async () => {
    const out = await medaxis('import', 'synthea', join(realdata, 'synthea-official-csv-se13'));
    expect(out).toMatch(/Synthea import run \d+ from /);
    expect(out).toContain('patients.csv  13 rows: 13 applied, 0 rejected');
    expect(out).toContain('not present: organizations.csv, providers.csv, encounters.csv');
  });
});
