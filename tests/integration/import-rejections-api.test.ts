import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { realdataDir } from '@medaxis/db/testing';
import { importFhir, importLocations, importMimic, medaxisId } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';

const emergencyEncounter = join(realdataDir, 'fhir-r4-examples/Encounter-emerg.r4.json');
const hasFhir = existsSync(emergencyEncounter);

let stack: Stack;
let scratch: string;
let cookie: string;

/** The spec's emergency Encounter (real data) and its Patient as a sender got it wrong. */
const badPatient = {
  resourceType: 'Patient',
  id: 'example',
  identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
  name: [{ family: 'Chalmers', given: ['Peter'] }],
  gender: 'robot',
};

beforeAll(async () => {
  stack = await startStack();
  await seedSmallHospital(stack.database.db);
  ({ cookie } = await stack.connect({ role: 'bed_manager' }).credentials);
  scratch = await mkdtemp(join(tmpdir(), 'medaxis-rejections-api-'));

  const entries: unknown[] = [badPatient];
  if (hasFhir) entries.push(JSON.parse(readFileSync(emergencyEncounter, 'utf8')));
  await writeFile(
    join(scratch, 'bundle.json'),
    JSON.stringify({
      resourceType: 'Bundle',
      type: 'collection',
      entry: entries.map((resource) => ({ resource })),
    }),
  );
  await importFhir(stack.database.db, { paths: [join(scratch, 'bundle.json')] });
  await writeFile(
    join(scratch, 'locations.csv'),
    'department,department_name,kind,room,bed\nICU,Intensive care,intensive,1,ICU-1\n',
  );
  await importLocations(stack.database.db, { file: join(scratch, 'locations.csv') });
  const mimic = join(scratch, 'mimic');
  await import('node:fs/promises').then(async (fs) => {
    await fs.mkdir(join(mimic, 'hosp'), { recursive: true });
    await fs.writeFile(
      join(mimic, 'hosp/transfers.csv'),
      'subject_id,hadm_id,transfer_id,eventtype,careunit,intime,outtime\n' +
        '9,900,9001,admit,,2150-02-01 09:00:00,2150-02-01 12:00:00\n',
    );
  });
  await importMimic(stack.database.db, { dir: mimic });
});

afterAll(async () => {
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function call(path: string, body: string, as = cookie) {
  const response = await fetch(`${stack.baseUrl}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: as, 'x-purpose-of-use': 'operations' },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      result?: { data: unknown };
      error?: { message: string; data: { medaxis: { reason: string } | null } };
    },
  };
}

async function list(input: Record<string, unknown> = {}) {
  const url = `${stack.baseUrl}/trpc/imports.rejections?input=${encodeURIComponent(
    JSON.stringify(input),
  )}`;
  const response = await fetch(url, { headers: { cookie, 'x-purpose-of-use': 'operations' } });
  return (await response.json()) as {
    result: {
      data: {
        counts: Record<string, number>;
        rejections: { id: string; kind: string; code: string; file: string; rowNumber: number }[];
      };
    };
  };
}

async function rejectionOf(kind: string, code: string) {
  const { rejections } = (await list({ kind })).result.data;
  return rejections.find((rejection) => rejection.code === code)!;
}

describe('import rejections over the API', () => {
  it('lists open rejections with their run, file, row and reason, not their contents', async () => {
    const { counts, rejections } = (await list()).result.data;

    expect(counts).toMatchObject({ fhir: hasFhir ? 2 : 1, locations: 1, mimic: 1, synthea: 0 });
    expect(rejections.find((r) => r.kind === 'locations')).toMatchObject({
      file: 'locations.csv',
      rowNumber: 2,
      code: 'bad_kind',
    });
    expect(JSON.stringify(rejections)).not.toContain('Chalmers');
  });

  it('shows the row of a locations rejection, and hides a patient row', async () => {
    const locations = await rejectionOf('locations', 'bad_kind');
    const patient = await rejectionOf('fhir', 'invalid_resource');
    const get = (id: string) => {
      const input = encodeURIComponent(JSON.stringify({ id }));
      return fetch(`${stack.baseUrl}/trpc/imports.rejection?input=${input}`, {
        headers: { cookie, 'x-purpose-of-use': 'operations' },
      }).then((response) => response.json() as Promise<{ result: { data: unknown } }>);
    };

    expect((await get(locations.id)).result.data).toMatchObject({
      rowShown: true,
      row: { department: 'ICU', kind: 'intensive' },
    });
    expect((await get(patient.id)).result.data).toMatchObject({ rowShown: false, row: null });
  });

  it('applies an edited FHIR resource, marks it reprocessed and audits the write', async () => {
    const rejection = await rejectionOf('fhir', 'invalid_resource');

    const response = await call(
      'imports.reprocess',
      JSON.stringify({ id: rejection.id, row: { ...badPatient, gender: 'male' } }),
    );

    expect(response.status).toBe(200);
    expect(response.body.result?.data).toMatchObject({ status: 'applied', edited: true });
    const { rows } = await stack.database.db.query(
      `SELECT r.outcome, r.reprocessed_by AS by, r.row->>'gender' AS original
         FROM import_rejection r WHERE r.id = $1`,
      [rejection.id],
    );
    expect(rows[0]).toMatchObject({ outcome: 'applied', original: 'robot' });
    expect(rows[0].by).toMatch(/^user:/);
    const audit = await stack.database.db.query(
      `SELECT action, outcome, patient_ids FROM audit_event
        WHERE operation = 'imports.reprocess' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit.rows[0]).toMatchObject({
      action: 'write',
      outcome: 'allowed',
      patient_ids: [medaxisId('Patient', 'example')],
    });
  });

  it.skipIf(!hasFhir)('applies the stored encounter once its patient is in', async () => {
    const rejection = await rejectionOf('fhir', 'unknown_patient');
    const response = await call('imports.reprocess', JSON.stringify({ id: rejection.id }));

    expect(response.body.result?.data).toMatchObject({ status: 'applied', edited: false });
    expect((await list({ kind: 'fhir' })).result.data.rejections).toEqual([]);
  });

  it('refuses an already reprocessed rejection with 409 and says so', async () => {
    const { rows } = await stack.database.db.query<{ id: string }>(
      `SELECT id::text AS id FROM import_rejection WHERE code = 'invalid_resource'`,
    );
    const response = await call('imports.reprocess', JSON.stringify({ id: rows[0]!.id }));

    expect(response.status).toBe(409);
    expect(response.body.error?.data.medaxis?.reason).toBe('already_reprocessed');
    expect(response.body.error?.message).toMatch(/was reprocessed at .*: applied/);
  });

  it('refuses a MIMIC row with 409: the import is run again instead', async () => {
    const rejection = await rejectionOf('mimic', 'missing_careunit');
    const response = await call('imports.reprocess', JSON.stringify({ id: rejection.id }));

    expect(response.status).toBe(409);
    expect(response.body.error?.data.medaxis?.reason).toBe('not_reprocessable');
    expect(response.body.error?.message).toContain('medaxis import mimic');
  });

  it('answers a rejected-again row with its outcome, and keeps it open under a new id', async () => {
    const rejection = await rejectionOf('locations', 'bad_kind');
    const response = await call(
      'imports.reprocess',
      JSON.stringify({ id: rejection.id, row: { department: 'ICU', kind: 'ward', bed: 'X' } }),
    );

    expect(response.status).toBe(200);
    expect(response.body.result?.data).toMatchObject({
      status: 'rejected',
      code: 'missing_room',
      retryId: expect.any(String),
    });
    expect((await list({ kind: 'locations' })).result.data.rejections).toMatchObject([
      { code: 'missing_room' },
    ]);
  });

  const malformed: [string, string, string][] = [
    ['invalid JSON', 'imports.reprocess', '{"id": "1",'],
    ['an id that is no number', 'imports.reprocess', '{"id": "1; DROP"}'],
    ['a numeric id', 'imports.reprocess', '{"id": 1}'],
    ['an edited row that is an array', 'imports.reprocess', '{"id": "1", "row": [1, 2]}'],
    ['an edited row that is text', 'imports.reprocess', '{"id": "1", "row": "department"}'],
    ['an unknown field', 'imports.reprocess', '{"id": "1", "force": true}'],
    ['a body that is an array', 'imports.reprocess', '[1]'],
  ];

  it.each(malformed)('answers %s with 400, changing nothing', async (_name, path, body) => {
    const before = await stack.database.db.query(`SELECT count(*)::int AS n FROM import_rejection`);
    const response = await call(path, body);

    expect(response.status).toBe(400);
    expect(response.body.error?.message).toBeTruthy();
    const after = await stack.database.db.query(`SELECT count(*)::int AS n FROM import_rejection`);
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  it('answers a cell that is not text, for a CSV row, with 400 bad_row', async () => {
    const [open] = (await list({ kind: 'locations' })).result.data.rejections;
    const response = await call(
      'imports.reprocess',
      JSON.stringify({ id: open!.id, row: { department: 7 } }),
    );

    expect(response.status).toBe(400);
    expect(response.body.error?.data.medaxis?.reason).toBe('bad_row');
  });

  it('answers a list filter it does not know with 400', async () => {
    const response = await fetch(
      `${stack.baseUrl}/trpc/imports.rejections?input=${encodeURIComponent('{"kind":"hl7"}')}`,
      { headers: { cookie, 'x-purpose-of-use': 'operations' } },
    );
    expect(response.status).toBe(400);
  });

  it('answers a rejection that does not exist with 404', async () => {
    const response = await call('imports.reprocess', JSON.stringify({ id: '987654321' }));
    expect(response.status).toBe(404);
  });

  it('refuses a role without import.manage with 403', async () => {
    const nurse = (await stack.connect({ role: 'charge_nurse', departments: ['MED'] }).credentials)
      .cookie;
    const response = await call('imports.reprocess', JSON.stringify({ id: '1' }), nurse);
    expect(response.status).toBe(403);
  });
});
