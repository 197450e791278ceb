import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AuditWriter } from '@medaxis/audit';
import { searchPatients } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importFhir, importSynthea, type SyntheaImportReport } from '../src/index.ts';
import { realdata, syntheaFhirDir, systemAccess } from './fhir-fixture.ts';

const ma10 = join(realdata, 'synthea-csv-ma-10');
const se13 = join(realdata, 'synthea-official-csv-se13');
const hasSynthea =
  existsSync(join(ma10, 'csv/patients.csv')) && existsSync(join(se13, 'patients.csv'));
const skipNote = hasSynthea ? '' : ` (skipped: ${realdata} Synthea files are missing)`;

const patientHeader =
  'Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,MARITAL,' +
  'RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,' +
  'HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME';
const encounterHeader =
  'Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,' +
  'BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION';
const good = '11111111-1111-4111-8111-111111111111';

/** A Synthea folder with the mistakes real exports and hand edits make, one per row. */
async function writeBadDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medaxis-synthea-'));
  const patient = (id: string, birth: string, gender: string) =>
    `${id},${birth},,,,,,Ada1,,Lovelace2,,,,white,,${gender},London,1 Main St,Boston,MA,,,` +
    '02110,0,0,0,0,0';
  await writeFile(
    join(dir, 'patients.csv'),
    [
      patientHeader,
      patient(good, '1990-01-01', 'F'),
      patient('22222222-2222-4222-8222-222222222222', '1990-02-30', 'F'),
      patient('', '1990-01-01', 'F'),
      patient('33333333-3333-4333-8333-333333333333', '1990-01-01', 'X'),
    ].join('\n'),
  );
  const encounter = (id: string, start: string, stop: string, patientId: string, cls: string) =>
    `${id},${start},${stop},${patientId},,,,${cls},1,visit,0,0,0,,`;
  await writeFile(
    join(dir, 'encounters.csv'),
    [
      encounterHeader,
      encounter(
        '44444444-4444-4444-8444-444444444444',
        '2020-01-01T10:00:00Z',
        '2020-01-01T11:00:00Z',
        good,
        'wellness',
      ),
      encounter(
        '55555555-5555-4555-8555-555555555555',
        '2020-01-01T10:00:00Z',
        '',
        '66666666-6666-4666-8666-666666666666',
        'ambulatory',
      ),
      encounter(
        '77777777-7777-4777-8777-777777777777',
        '2020-01-01T10:00:00Z',
        '2020-01-01T09:00:00Z',
        good,
        'inpatient',
      ),
      encounter(
        '88888888-8888-4888-8888-888888888888',
        '2020-01-01T10:00:00Z',
        '',
        good,
        'teleport',
      ),
      '99999999-9999-4999-8999-999999999999,2020-01-01T10:00:00Z',
    ].join('\n'),
  );
  return dir;
}

let test: TestDatabase;
let badDir: string;
let ma: SyntheaImportReport;
let se: SyntheaImportReport;
let bad: SyntheaImportReport;

beforeAll(async () => {
  if (!hasSynthea) return;
  test = await createTestDatabase('synthea');
  badDir = await writeBadDir();
  const audit = new AuditWriter(test.db);
  ma = await importSynthea(test.db, { dir: ma10, audit });
  se = await importSynthea(test.db, { dir: se13, audit });
  bad = await importSynthea(test.db, { dir: badDir, audit });
  await audit.close();
});

afterAll(async () => {
  await test?.drop();
  if (badDir) await rm(badDir, { recursive: true, force: true });
});

async function rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await test.db.query(sql, params)).rows as T[];
}

describe.skipIf(!hasSynthea)(`Synthea CSV import${skipNote}`, () => {
  it('applies every row of the Massachusetts sample, all four files', () => {
    expect(ma.files).toEqual({
      'organizations.csv': { read: 43, applied: 43, rejected: 0 },
      'providers.csv': { read: 43, applied: 43, rejected: 0 },
      'patients.csv': { read: 11, applied: 11, rejected: 0 },
      'encounters.csv': { read: 831, applied: 831, rejected: 0 },
    });
    expect(ma.rejectedByReason).toEqual({});
    expect(ma.notes).toEqual({ 'placeholder ZIP 00000: postal code left out': 4 });
  });

  it("keeps accented names, deaths, SSNs, and each visit's attending", async () => {
    const [patient] = await rows<Record<string, unknown>>(
      `SELECT i.given_name AS given, i.family_name AS family, i.sex,
              to_char(i.deceased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS died,
              i.address->0->>'postalCode' AS zip,
              (SELECT value FROM patient_identifier x
                WHERE x.patient_id = i.patient_id AND x.type = 'SS') AS ssn
         FROM patient_identity i WHERE i.family_name = 'Águilar229'`,
    );
    expect(patient).toEqual({
      given: 'Débora815 Mónica985',
      family: 'Águilar229',
      sex: 'F',
      died: '2014-09-13',
      zip: null,
      ssn: '999-66-2904',
    });
    const [visits] = await rows<Record<string, number>>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE attending_id IS NOT NULL AND organization_id IS NOT NULL)::int
                AS attributed,
              count(*) FILTER (WHERE class = 'inpatient')::int AS inpatient,
              count(*) FILTER (WHERE class = 'emergency')::int AS emergency,
              count(*) FILTER (WHERE status = 'finished')::int AS finished
         FROM encounter WHERE source_system = 'synthea'`,
    );
    expect(visits).toEqual({
      total: 832,
      attributed: 831,
      inpatient: 5,
      emergency: 100,
      finished: 832,
    });
  });

  it('reads the Swedish sample: non-ASCII places, postcodes with spaces', async () => {
    expect(se.files).toEqual({ 'patients.csv': { read: 13, applied: 13, rejected: 0 } });
    expect(se.missing).toEqual(['organizations.csv', 'providers.csv', 'encounters.csv']);
    const [row] = await rows<{ city: string; zip: string }>(
      `SELECT address->0->>'city' AS city, address->0->>'postalCode' AS zip
         FROM patient_identity WHERE given_name = 'Eustolia154 Maia476'`,
    );
    expect(row).toEqual({ city: 'Huddinge', zip: '141 34' });
  });

  it('rejects each bad row with its reason and line, applies the valid ones', async () => {
    expect(bad.files).toEqual({
      'patients.csv': { read: 4, applied: 1, rejected: 3 },
      'encounters.csv': { read: 5, applied: 1, rejected: 4 },
    });
    const kept = await rows<{ file: string; line: number; code: string; reason: string }>(
      `SELECT file, row_number AS line, code, reason FROM import_rejection WHERE run_id = $1
        ORDER BY file DESC, row_number`,
      [bad.runId],
    );
    expect(kept.map(({ file, line, code }) => `${file}:${line} ${code}`)).toEqual([
      'patients.csv:3 invalid_row',
      'patients.csv:4 invalid_row',
      'patients.csv:5 invalid_row',
      'encounters.csv:3 unknown_patient',
      'encounters.csv:4 ends_before_start',
      'encounters.csv:5 unknown_class',
      'encounters.csv:6 invalid_row',
    ]);
    expect(kept.map((row) => row.reason.split(':')[0])).toEqual([
      'BIRTHDATE',
      'Id',
      'GENDER',
      'PATIENT is not imported.',
      'STOP is before START.',
      'ENCOUNTERCLASS teleport is not one MedAxis knows.',
      'PATIENT',
    ]);
  });

  it('audits every patient and encounter written, as the system (import:synthea)', async () => {
    const audited = await rows<{ operation: string; n: number }>(
      `SELECT operation, count(*)::int AS n FROM audit_event
        WHERE source = 'import:synthea' AND actor_id = 'system' GROUP BY operation
        ORDER BY operation`,
    );
    expect(audited).toEqual([
      { operation: 'import.synthea.encounter', n: 832 },
      { operation: 'import.synthea.patient', n: 25 },
    ]);
  });

  it('finds patients by any identifier, by name prefix in any case, by birth date', async () => {
    const access = systemAccess('patient.search');
    const byName = await searchPatients(test.db, access, { name: 'marín', limit: 10 });
    expect(byName.items.map((item) => item.view.familyName)).toEqual(['Marín855']);
    const bySsn = await searchPatients(test.db, access, { mrn: '999-83-9834', limit: 10 });
    expect(bySsn.items.map((item) => item.view.familyName)).toEqual(['Marín855']);
    const byBirth = await searchPatients(test.db, access, {
      name: 'ester',
      birthDate: '2010-12-01',
      limit: 10,
    });
    expect(byBirth.total).toBe(1);
  });

  it("lands on the same rows as Synthea's FHIR output, and a re-run changes nothing", async () => {
    const count = async () =>
      (
        await rows<Record<string, number>>(
          `SELECT (SELECT count(*) FROM organization)::int AS organizations,
                  (SELECT count(*) FROM practitioner)::int AS practitioners,
                  (SELECT count(*) FROM patient)::int AS patients,
                  (SELECT count(*) FROM encounter)::int AS encounters,
                  (SELECT count(*) FROM import_rejection)::int AS rejections`,
        )
      )[0];
    const before = await count();
    await importFhir(test.db, { paths: [syntheaFhirDir] });
    const again = await importSynthea(test.db, { dir: badDir });
    expect(again.rejectionsAlreadyKept).toBe(7);
    await importSynthea(test.db, { dir: ma10 });
    expect(await count()).toEqual(before);
  });
});
