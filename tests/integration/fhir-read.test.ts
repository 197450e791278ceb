import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { importFhir, medaxisId } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../support/stack.ts';

// GET /fhir/r4/<type>/<id>: FHIR JSON through the same session, enforcement point and access
// decision as tRPC's patient reads.

const physical = (code: string) => ({
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code }],
});

const bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    { resourceType: 'Location', id: 'card', name: 'Cardiology', physicalType: physical('wa') },
    { resourceType: 'Location', id: 'icu', name: 'ICU', physicalType: physical('wa') },
    {
      resourceType: 'Location',
      id: 'card-1',
      name: '1',
      physicalType: physical('ro'),
      partOf: { reference: 'Location/card' },
    },
    {
      resourceType: 'Location',
      id: 'CARD-1-A',
      physicalType: physical('bd'),
      partOf: { reference: 'Location/card-1' },
    },
    {
      resourceType: 'Patient',
      id: 'read-1',
      identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN-4711' }],
      name: [{ family: 'Nakamura', given: ['Yui'] }],
      gender: 'female',
      birthDate: '1988-04-02',
      telecom: [{ system: 'phone', value: '+81 3 5555 0100' }],
    },
    {
      resourceType: 'Encounter',
      id: 'read-1-visit',
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: 'Patient/read-1' },
      period: { start: '2026-11-30T08:00:00Z' },
      location: [
        { location: { reference: 'Location/CARD-1-A' }, period: { start: '2026-11-30T08:00:00Z' } },
      ],
    },
  ].map((resource) => ({ resource })),
};

let stack: Stack;
let dir: string;
const cookies = new Map<string, string>();

async function cookieFor(role: string, departments?: string[]): Promise<string> {
  const key = `${role}:${departments?.join(',') ?? ''}`;
  if (!cookies.has(key)) {
    const connection = stack.connect({ role, ...(departments ? { departments } : {}) });
    cookies.set(key, (await connection.credentials).cookie);
  }
  return cookies.get(key)!;
}

async function read(path: string, cookie: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.baseUrl}/fhir/r4/${path}`, {
    headers: { ...(cookie ? { cookie } : {}), ...headers },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'medaxis-fhir-read-'));
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(bundle));
  const report = await importFhir(stack.database.db, { paths: [dir] });
  expect(report.rejectedByReason).toEqual({});
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('FHIR R4 read endpoints', () => {
  it('answers a Patient as FHIR JSON, by its MedAxis id or the FHIR id it came with', async () => {
    const cookie = await cookieFor('bed_manager');
    const byFhirId = await read('Patient/read-1', cookie);
    expect(byFhirId.status).toBe(200);
    expect(byFhirId.type).toMatch(/^application\/fhir\+json/);
    expect(byFhirId.body).toEqual({
      resourceType: 'Patient',
      id: medaxisId('Patient', 'read-1'),
      identifier: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }],
          },
          system: 'urn:oid:2.16.840.1.113883.19.5',
          value: 'MRN-4711',
        },
      ],
      name: [{ family: 'Nakamura', given: ['Yui'] }],
      telecom: [{ system: 'phone', value: '+81 3 5555 0100' }],
      gender: 'female',
      birthDate: '1988-04-02',
    });
    const byId = await read(`Patient/${medaxisId('Patient', 'read-1')}`, cookie);
    expect(byId.body).toEqual(byFhirId.body);
  });

  it('answers an Encounter with its bed stays as location history', async () => {
    const answer = await read('Encounter/read-1-visit', await cookieFor('bed_manager'));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: `Patient/${medaxisId('Patient', 'read-1')}` },
      location: [
        {
          location: { reference: 'Location/bed-CARD-1-A' },
          status: 'active',
          period: { start: '2026-11-30T08:00:00.000Z' },
        },
      ],
    });
  });

  it('answers a bed Location with its 0116 operational status', async () => {
    const answer = await read('Location/bed-CARD-1-A', await cookieFor('admin'));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      resourceType: 'Location',
      operationalStatus: { code: 'O', display: 'Occupied' },
      partOf: { reference: 'Location/room-CARDIOLOGY-1' },
    });
  });

  it('refuses without a session (401) and without patient.read (403), saying little', async () => {
    const anonymous = await read('Patient/read-1', '');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ resourceType: 'OperationOutcome' });
    const admin = await read('Patient/read-1', await cookieFor('admin'));
    expect(admin.status).toBe(403);
    expect(admin.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'Not allowed.' }],
    });
  });

  it('answers a patient out of scope exactly like one that does not exist', async () => {
    const cookie = await cookieFor('charge_nurse', ['ICU']);
    const outOfScope = await read('Patient/read-1', cookie);
    const missing = await read('Patient/nobody', cookie);
    expect(outOfScope.status).toBe(404);
    expect(outOfScope.body).toEqual(missing.body);
    expect((await read('Encounter/read-1-visit', cookie)).status).toBe(404);
  });

  it('answers malformed requests with 400 or 404 OperationOutcomes, never 500', async () => {
    const cookie = await cookieFor('bed_manager');
    expect((await read('Patient/bad%20id', cookie)).status).toBe(400);
    expect((await read(`Patient/${'x'.repeat(3000)}`, cookie)).status).toBe(400);
    expect((await read('Observation/x', cookie)).status).toBe(404);
    const purpose = await read('Patient/read-1', cookie, { 'x-purpose-of-use': 'curiosity' });
    expect(purpose.status).toBe(400);
    expect(purpose.body).toMatchObject({ issue: [{ code: 'invalid' }] });
    expect((await read('Patient/read-1', cookie, { 'x-purpose-of-use': 'analytics' })).status).toBe(
      403,
    );
  });

  it('leaves the same audit trail as the tRPC read of the same patient', async () => {
    const cookie = await cookieFor('bed_manager');
    const count = async () => {
      const { rows } = await stack.database.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_event`,
      );
      return rows[0]!.n;
    };
    const start = await count();
    const input = encodeURIComponent(JSON.stringify({ id: medaxisId('Patient', 'read-1') }));
    const trpc = await fetch(`${stack.baseUrl}/trpc/patients.get?input=${input}`, {
      headers: { cookie },
    });
    expect(trpc.status).toBe(200);
    const afterTrpc = await count();
    expect((await read('Patient/read-1', cookie)).status).toBe(200);
    expect((await count()) - afterTrpc).toBe(afterTrpc - start);
  });

  it('gives the record over tRPC (patients.record), found by identifier, authority', async () => {
    const cookie = await cookieFor('bed_manager');
    const get = async (path: string, input: unknown) => {
      const query = encodeURIComponent(JSON.stringify(input));
      const response = await fetch(`${stack.baseUrl}/trpc/${path}?input=${query}`, {
        headers: { cookie },
      });
      return {
        status: response.status,
        body: (await response.json()) as { result?: { data: unknown } },
      };
    };
    const record = await get('patients.record', { id: medaxisId('Patient', 'read-1') });
    expect(record.body.result?.data).toMatchObject({
      mrn: 'MRN-4711',
      familyName: 'Nakamura',
      bedCode: 'CARD-1-A',
      identifiers: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: 'MRN-4711', type: 'MR' }],
      telecom: [{ system: 'phone', value: '+81 3 5555 0100' }],
    });
    const found = await get('patients.search', {
      mrn: 'MRN-4711',
      authority: 'urn:oid:2.16.840.1.113883.19.5',
    });
    expect(found.body.result?.data).toMatchObject({ total: 1 });
    const elsewhere = await get('patients.search', { mrn: 'MRN-4711', authority: 'urn:other' });
    expect(elsewhere.body.result?.data).toMatchObject({ total: 0 });
    expect((await get('patients.search', { authority: 'urn:other' })).status).toBe(400);
  });
});
