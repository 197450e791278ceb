import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AuditWriter } from '@medaxis/audit';
import { ensureSite } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { isMedaxisError } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  countOpenImportRejections,
  importFhir,
  importLocations,
  importMimic,
  importSynthea,
  listOpenImportRejections,
  loadImportRejection,
  medaxisId,
  reprocessImportRejection,
  type ImportKind,
} from '../src/index.ts';
import { emergencyEncounter, hasFhirExamples, realdata } from './fhir-fixture.ts';
import { writeTransfersFixture } from './fixture.ts';

const ma10 = join(realdata, 'synthea-csv-ma-10/csv');
const hasRealdata = hasFhirExamples && existsSync(join(ma10, 'patients.csv'));
const skipNote = hasRealdata ? '' : ` (skipped: ${realdata} is missing)`;

let test: TestDatabase;
let scratch: string;

beforeAll(async () => {
  test = await createTestDatabase('import_reprocess');
  scratch = await mkdtemp(join(tmpdir(), 'medaxis-reprocess-'));
  await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
});

afterAll(async () => {
  await test?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function openOf(kind: ImportKind) {
  return listOpenImportRejections(test.db, { kind });
}

async function refusal(promise: Promise<unknown>) {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isMedaxisError(error)) throw new Error(`expected a MedaxisError, got ${String(error)}`);
  return { code: error.code, reason: error.reason, message: error.message };
}

describe.skipIf(!hasRealdata)(`reprocessing a rejected FHIR resource${skipNote}`, () => {
  const encounter = (): Record<string, unknown> =>
    JSON.parse(readFileSync(emergencyEncounter, 'utf8')) as Record<string, unknown>;
  const patient = {
    resourceType: 'Patient',
    id: 'example',
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
    name: [{ family: 'Chalmers', given: ['Peter'] }],
    birthDate: 19741225,
  };

  beforeAll(async () => {
    // The spec's emergency Encounter, after a Patient a sender got wrong: both are rejected.
    await writeFile(
      join(scratch, 'bundle.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: patient }, { resource: encounter() }],
      }),
    );
    const report = await importFhir(test.db, { paths: [join(scratch, 'bundle.json')] });
    expect(report.rejectedByReason).toEqual({ invalid_resource: 1, unknown_patient: 1 });
  });

  it('lists each rejected entry with its run, file, entry and reason, not its row', async () => {
    const open = await openOf('fhir');
    expect(open.map((r) => [r.file.endsWith('bundle.json'), r.rowNumber, r.code])).toEqual([
      [true, 2, 'unknown_patient'],
      [true, 1, 'invalid_resource'],
    ]);
    expect(open[0]).not.toHaveProperty('row');
    expect(open.every((r) => r.attempt === 1 && r.reprocessable)).toBe(true);
  });

  it('keeps a rejection rejected again as a new one with its new reason, attempt 2', async () => {
    const [encounterRejection] = await openOf('fhir');
    const outcome = await reprocessImportRejection(test.db, encounterRejection!.id, {
      by: 'system',
    });

    expect(outcome).toMatchObject({ status: 'rejected', code: 'unknown_patient', edited: false });
    const closed = await loadImportRejection(test.db, encounterRejection!.id);
    expect(closed).toMatchObject({ outcome: 'rejected', retryId: outcome.retryId });
    const retry = await loadImportRejection(test.db, outcome.retryId!);
    expect(retry).toMatchObject({
      attempt: 2,
      reprocessOf: encounterRejection!.id,
      code: 'unknown_patient',
      reprocessedAt: null,
    });
  });

  it('applies an edited resource, keeps the original and marks the rejection reprocessed', async () => {
    const patientRejection = (await openOf('fhir')).find((r) => r.code === 'invalid_resource')!;
    const audit = new AuditWriter(test.db);
    const fixed = { ...patient, birthDate: '1974-12-25' };
    const outcome = await reprocessImportRejection(test.db, patientRejection.id, {
      by: 'user-1',
      row: fixed,
      audit,
    });
    await audit.close();

    expect(outcome).toMatchObject({ status: 'applied', edited: true, code: null });
    const closed = await loadImportRejection(test.db, patientRejection.id);
    expect(closed).toMatchObject({
      outcome: 'applied',
      reprocessedBy: 'user-1',
      appliedRow: fixed,
    });
    expect((closed!.row as { birthDate: unknown }).birthDate).toBe(19741225);
    const { rows } = await test.db.query(
      `SELECT birth_date::text AS birth FROM patient_identity WHERE patient_id = $1`,
      [medaxisId('Patient', 'example')],
    );
    expect(rows).toEqual([{ birth: '1974-12-25' }]);
    const audited = await test.db.query(
      `SELECT count(*)::int AS n FROM audit_event WHERE source = 'import:fhir'`,
    );
    expect(audited.rows[0]).toEqual({ n: 1 });
  });

  it('applies the stored encounter once its patient is there: its stays follow', async () => {
    const [retry] = await openOf('fhir');
    const outcome = await reprocessImportRejection(test.db, retry!.id, { by: 'system' });

    expect(outcome.status).toBe('applied');
    expect(await openOf('fhir')).toEqual([]);
    const { rows } = await test.db.query(
      `SELECT count(*)::int AS n FROM bed_stay WHERE encounter_id = $1`,
      [medaxisId('Encounter', 'emerg')],
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('refuses to reprocess a rejection already reprocessed, saying how it ended', async () => {
    const { rows } = await test.db.query<{ id: string }>(
      `SELECT id::text AS id FROM import_rejection WHERE code = 'invalid_resource'`,
    );
    const refused = await refusal(reprocessImportRejection(test.db, rows[0]!.id, { by: 'system' }));
    expect(refused).toMatchObject({ code: 'CONFLICT', reason: 'already_reprocessed' });
    expect(refused.message).toMatch(/was reprocessed at .*: applied/);
  });
});

describe.skipIf(!hasRealdata)(`reprocessing a rejected Synthea row${skipNote}`, () => {
  let patientLine: string[];

  beforeAll(async () => {
    // A real Synthea patient and one of their encounters; the patient's birth date mangled.
    const dir = join(scratch, 'synthea');
    const [patientHeader, firstPatient] = readFileSync(join(ma10, 'patients.csv'), 'utf8')
      .split('\n')
      .slice(0, 2) as [string, string];
    patientLine = firstPatient.split(',');
    const broken = [...patientLine];
    broken[1] = '2026-13-45';
    const encounters = readFileSync(join(ma10, 'encounters.csv'), 'utf8').split('\n');
    const theirs = encounters.find((line) => line.split(',')[3] === patientLine[0])!;
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    await writeFile(join(dir, 'patients.csv'), `${patientHeader}\n${broken.join(',')}\n`);
    await writeFile(join(dir, 'encounters.csv'), `${encounters[0]}\n${theirs}\n`);
    const report = await importSynthea(test.db, { dir });
    expect(report.rejectedByReason).toEqual({ invalid_row: 1, unknown_patient: 1 });
  });

  it('applies the edited patient row, then the stored encounter row, closing both', async () => {
    const open = await openOf('synthea');
    const patientRejection = open.find((r) => r.file === 'patients.csv')!;
    const encounterRejection = open.find((r) => r.file === 'encounters.csv')!;
    const stored = (await loadImportRejection(test.db, patientRejection.id))!.row as Record<
      string,
      string
    >;

    const fixed = { ...stored, BIRTHDATE: patientLine[1]! };
    const first = await reprocessImportRejection(test.db, patientRejection.id, {
      by: 'system',
      row: fixed,
    });
    const second = await reprocessImportRejection(test.db, encounterRejection.id, {
      by: 'system',
    });

    expect([first.status, second.status]).toEqual(['applied', 'applied']);
    expect(await openOf('synthea')).toEqual([]);
    const { rows } = await test.db.query(
      `SELECT e.class::text AS class FROM encounter e WHERE e.patient_id = $1`,
      [patientLine[0]!.toLowerCase()],
    );
    expect(rows).toHaveLength(1);
  });
});

describe('reprocessing a rejected locations row', () => {
  let file: string;

  beforeAll(async () => {
    file = join(scratch, 'locations.csv');
    await writeFile(
      file,
      [
        'department,department_name,kind,room,bed',
        'ICU,Intensive care,icu,1,ICU-1',
        'CCU,Coronary care,coronary,1,CCU-1',
        'ICU,,,2,ICU-1',
      ].join('\n'),
    );
    const report = await importLocations(test.db, { file });
    expect(report.rejectedByReason).toEqual({ bad_kind: 1, duplicate_bed: 1 });
  });

  it('applies the edited row and marks the rejection reprocessed', async () => {
    const rejection = (await openOf('locations')).find((r) => r.code === 'bad_kind')!;
    const stored = (await loadImportRejection(test.db, rejection.id))!.row as Record<
      string,
      string
    >;

    const outcome = await reprocessImportRejection(test.db, rejection.id, {
      by: 'system',
      row: { ...stored, kind: 'icu' },
    });

    expect(outcome.status).toBe('applied');
    const { rows } = await test.db.query(
      `SELECT d.kind::text AS kind, b.code FROM department d JOIN room r ON r.department_id = d.id
         JOIN bed b ON b.room_id = r.id WHERE d.code = 'CCU'`,
    );
    expect(rows).toEqual([{ kind: 'icu', code: 'CCU-1' }]);
    expect(await loadImportRejection(test.db, rejection.id)).toMatchObject({
      outcome: 'applied',
      reprocessedAt: expect.any(String),
    });
  });

  it('rejects a row the hospital refuses again, with the importer reason', async () => {
    // Alone, the second listing of ICU-1 asks to move the bed to room 2: refused as it would be.
    const rejection = (await openOf('locations')).find((r) => r.code === 'duplicate_bed')!;
    const outcome = await reprocessImportRejection(test.db, rejection.id, { by: 'system' });

    expect(outcome).toMatchObject({ status: 'rejected', code: 'bed_in_other_room' });
    expect((await openOf('locations')).map((r) => [r.code, r.attempt])).toEqual([
      ['bed_in_other_room', 2],
    ]);
  });

  it('refuses an edit that is not a row of column names to text, and keeps it open', async () => {
    const [open] = await openOf('locations');
    const refused = await refusal(
      reprocessImportRejection(test.db, open!.id, { by: 'system', row: { bed: 42 } }),
    );

    expect(refused).toMatchObject({ code: 'VALIDATION', reason: 'bad_row' });
    expect((await openOf('locations')).map((r) => r.id)).toEqual([open!.id]);
  });

  it('refuses a rejection that does not exist', async () => {
    const refused = await refusal(reprocessImportRejection(test.db, '999999', { by: 'system' }));
    expect(refused).toMatchObject({ code: 'NOT_FOUND', reason: 'unknown_rejection' });
  });
});

describe('MIMIC rejections', () => {
  const admit = (careunit: string) =>
    `9,900,9001,admit,${careunit},2150-02-01 09:00:00,2150-02-01 12:00:00`;
  const discharge = '9,900,9002,discharge,,2150-02-01 12:00:00,';

  it('are not reprocessed alone: the refusal says to import the fixed files again', async () => {
    const fixture = writeTransfersFixture([admit(''), discharge]);
    await importMimic(test.db, { dir: fixture.dir });
    const [rejection] = await openOf('mimic');

    const refused = await refusal(
      reprocessImportRejection(test.db, rejection!.id, { by: 'system' }),
    );

    expect(refused).toMatchObject({ code: 'CONFLICT', reason: 'not_reprocessable' });
    expect(refused.message).toMatch(/medaxis import mimic/);
    expect(rejection!.reprocessable).toBe(false);
    fixture.remove();
  });

  it('are marked reprocessed when a re-run of the fixed file applies their row', async () => {
    const before = await countOpenImportRejections(test.db);
    const fixture = writeTransfersFixture([admit('Medicine'), discharge]);
    const report = await importMimic(test.db, { dir: fixture.dir });
    fixture.remove();

    expect(report.rejectionsResolved).toBe(before.mimic);
    expect(await openOf('mimic')).toEqual([]);
    const { rows } = await test.db.query(
      `SELECT r.outcome, r.reprocessed_by AS by FROM import_rejection r
         JOIN import_run u ON u.id = r.run_id WHERE u.kind = 'mimic'`,
    );
    expect(rows).toEqual(
      Array.from({ length: before.mimic }, () => ({
        outcome: 'applied',
        by: `import run ${report.runId}`,
      })),
    );
  });
});

describe('a re-run of a fixed file', () => {
  it('marks the FHIR entries it now applies reprocessed (same type and id)', async () => {
    const resource = (birthDate: unknown) => ({
      resourceType: 'Patient',
      id: 'rerun-1',
      birthDate,
    });
    const file = join(scratch, 'rerun.ndjson');
    await writeFile(file, `${JSON.stringify(resource(20000101))}\n`);
    await importFhir(test.db, { paths: [file] });
    expect((await openOf('fhir')).map((r) => r.code)).toEqual(['invalid_resource']);

    await writeFile(file, `${JSON.stringify(resource('2000-01-01'))}\n`);
    const report = await importFhir(test.db, { paths: [file] });

    expect(report.rejectionsResolved).toBe(1);
    expect(await openOf('fhir')).toEqual([]);
  });

  it.skipIf(!hasRealdata)(
    'marks the Synthea rows it now applies reprocessed (same Id)',
    async () => {
      const dir = join(scratch, 'synthea-rerun');
      await import('node:fs/promises').then((fs) => fs.mkdir(dir));
      const [header, first] = readFileSync(join(ma10, 'organizations.csv'), 'utf8').split('\n') as [
        string,
        string,
      ];
      const cells = first.split(',');
      await writeFile(
        join(dir, 'organizations.csv'),
        `${header}\n${cells[0]},,${cells.slice(2).join(',')}\n`,
      );
      await importSynthea(test.db, { dir });
      expect((await openOf('synthea')).map((r) => [r.file, r.code])).toEqual([
        ['organizations.csv', 'invalid_row'],
      ]);

      await writeFile(join(dir, 'organizations.csv'), `${header}\n${first}\n`);
      const report = await importSynthea(test.db, { dir });

      expect(report.rejectionsResolved).toBe(1);
      expect(await openOf('synthea')).toEqual([]);
    },
  );
});

describe('a rejection that holds no row to apply as stored', () => {
  it('is refused as it is (no_row), and applied once given an edited row', async () => {
    const file = join(scratch, 'broken.ndjson');
    await writeFile(file, '{"resourceType": "Patient", "id": "broken-1"\n');
    await importFhir(test.db, { paths: [file] });
    const [rejection] = await openOf('fhir');
    expect(rejection!.code).toBe('invalid_json');

    const refused = await refusal(
      reprocessImportRejection(test.db, rejection!.id, { by: 'system' }),
    );
    const outcome = await reprocessImportRejection(test.db, rejection!.id, {
      by: 'system',
      row: { resourceType: 'Patient', id: 'broken-1' },
    });

    expect(refused).toMatchObject({ code: 'VALIDATION', reason: 'no_row' });
    expect(refused.message).toContain('give an edited row');
    expect(outcome.status).toBe('applied');
  });
});
