import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { historyCommandOptions, isMedaxisError } from '@medaxis/domain';
import { decideAccess, loadPolicyConfig } from '@medaxis/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  censusAt,
  createDb,
  ensureBed,
  ensureDepartment,
  ensureEncounterRecord,
  ensureRoom,
  ensureSite,
  executeCommand,
  exportEncounterRecords,
  getPatient,
  getPatientRecord,
  listLocations,
  loadBoardBedsByDepartment,
  mergePatients,
  resolvePatientIdentifier,
  searchPatients,
  updatePatientIdentity,
  upsertPatientRecord,
  withTransaction,
  type PatientAccess,
  type PatientRecordInput,
} from '../src/index.ts';
import { createTestDatabase, repoRoot, type TestDatabase } from '../src/testing.ts';

/*
 * The patient data service: demographics apart from operational rows, several identifiers per
 * patient, search by any of them, and merges after which old identifiers and ids still lead to
 * the surviving patient.
 */

const { roles, policies } = loadPolicyConfig(join(repoRoot, 'config'));

function access(): PatientAccess {
  const decision = decideAccess({
    roles,
    policies,
    actor: { kind: 'system', id: 'system', roles: ['system'], departments: '*' },
    permission: 'patient.read',
    purpose: 'operations',
    patientData: true,
    breakGlass: [],
    now: new Date(),
  });
  if (!decision.allow) throw new Error('denied');
  return { filter: decision.rowFilter, mask: decision.fieldMask };
}

const authority = 'urn:oid:1.2.3.4';
const ssn = 'http://hl7.org/fhir/sid/us-ssn';

function person(mrn: string, family: string, extra: Partial<PatientRecordInput> = {}) {
  return {
    mrn: { authority, value: mrn },
    identifiers: [],
    names: [{ family, given: ['Kim'] }],
    birthDate: '1970-05-17',
    sex: 'F',
    addresses: [{ line: ['1 High St'], city: 'Leeds' }],
    telecom: [{ system: 'phone', value: '0113 496 0000' }],
    contacts: [],
    deceasedAt: null,
    managingOrganizationId: null,
    ...extra,
  } satisfies PatientRecordInput;
}

let test: TestDatabase;
let survivor: string;
let prior: string;
let bedId: number;

beforeAll(async () => {
  test = await createTestDatabase('patient_service');
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  const department = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Medicine',
    kind: 'ward',
  });
  const room = await ensureRoom(test.db, department, '1');
  bedId = await ensureBed(test.db, { roomId: room, code: 'MED-1', since: new Date(0) });
  survivor = await withTransaction(test.db, async (tx) => {
    const record = person('A-1', 'Okafor', {
      identifiers: [{ system: ssn, value: '999-10-0001', type: 'SS' }],
    });
    return (await upsertPatientRecord(tx, record)).patientId;
  });
  prior = await withTransaction(test.db, async (tx) => {
    const record = person('B-2', 'Okafor-Smith', {
      identifiers: [{ system: ssn, value: '999-10-0002', type: 'SS' }],
    });
    return (await upsertPatientRecord(tx, record)).patientId;
  });
  // The prior patient's visit, in a bed: a merge moves it to the survivor.
  const encounterId = '0b7a4d1e-0000-4000-8000-000000000001';
  await withTransaction(test.db, (tx) =>
    ensureEncounterRecord(tx, {
      id: encounterId,
      patientId: prior,
      class: 'inpatient',
      sourceSystem: 'test',
      sourceRef: 'V1',
    }),
  );
  await executeCommand(
    test.db,
    { type: 'admit', encounterId, bedId, at: new Date('2026-01-01T10:00:00Z') },
    { source: 'test', options: historyCommandOptions(new Date()) },
  );
});

afterAll(async () => {
  await test?.drop();
});

describe('patient data service', () => {
  it('keeps several identifiers per patient and finds the patient by any of them', async () => {
    expect(await resolvePatientIdentifier(test.db, authority, 'A-1')).toBe(survivor);
    expect(await resolvePatientIdentifier(test.db, ssn, '999-10-0001')).toBe(survivor);
    expect(await resolvePatientIdentifier(test.db, ssn, '999-10-9999')).toBeUndefined();
    const record = await getPatientRecord(test.db, access(), survivor);
    expect(record.identifiers).toEqual([
      { system: authority, value: 'A-1', type: 'MR' },
      { system: ssn, value: '999-10-0001', type: 'SS' },
    ]);
    expect(record.addresses).toEqual([{ line: ['1 High St'], city: 'Leeds' }]);
    expect(record.telecom).toEqual([{ system: 'phone', value: '0113 496 0000' }]);
  });

  it('refuses an identifier that already belongs to another patient', async () => {
    const error = await withTransaction(test.db, (tx) =>
      upsertPatientRecord(
        tx,
        person('C-3', 'Other', { identifiers: [{ system: ssn, value: '999-10-0001' }] }),
      ),
    ).catch((e: unknown) => e);
    expect(isMedaxisError(error) && error.reason).toBe('identifier_in_use');
  });

  it('searches by identifier, by name prefix in any case, and by birth date', async () => {
    const byMrn = await searchPatients(test.db, access(), { mrn: 'A-1', limit: 10 });
    expect(byMrn.items.map((item) => item.touchedPatientId)).toEqual([survivor]);
    const byAuthority = await searchPatients(test.db, access(), {
      mrn: 'A-1',
      authority: 'urn:oid:9.9.9',
      limit: 10,
    });
    expect(byAuthority.total).toBe(0);
    const byName = await searchPatients(test.db, access(), {
      name: 'okaf',
      birthDate: '1970-05-17',
      limit: 10,
    });
    expect(byName.total).toBe(2);
  });

  describe('after a merge (A40)', () => {
    beforeAll(async () => {
      // The A40 as the feed stores it: the alias names the message it came with.
      const { rows } = await test.db.query<{ id: string }>(
        `INSERT INTO hl7_message (peer, raw, payload_hash) VALUES ('test', '\\x41', 'h')
         RETURNING id`,
      );
      await withTransaction(test.db, (tx) =>
        mergePatients(tx, {
          survivorId: survivor,
          priorId: prior,
          prior: { authority, mrn: 'B-2' },
          messageId: rows[0]!.id,
        }),
      );
    });

    it("resolves the prior patient's MRN and every other identifier to the survivor", async () => {
      expect(await resolvePatientIdentifier(test.db, authority, 'B-2')).toBe(survivor);
      expect(await resolvePatientIdentifier(test.db, ssn, '999-10-0002')).toBe(survivor);
    });

    it("reads the survivor under the prior patient's id, with the visit that moved", async () => {
      const read = await getPatient(test.db, access(), prior);
      expect(read.touchedPatientId).toBe(survivor);
      expect(read.view).toMatchObject({ mrn: 'A-1', bedCode: 'MED-1' });
      const record = await getPatientRecord(test.db, access(), survivor);
      expect(record.mergedFrom).toEqual([prior]);
      // The survivor carries every identifier that leads to it, its own MRN first.
      expect(record.identifiers).toEqual([
        { system: authority, value: 'A-1', type: 'MR' },
        { system: ssn, value: '999-10-0001', type: 'SS' },
        { system: authority, value: 'B-2', type: 'MR' },
        { system: ssn, value: '999-10-0002', type: 'SS' },
      ]);
    });

    it('finds only the survivor, by the old MRN or the old name', async () => {
      const byOldMrn = await searchPatients(test.db, access(), { mrn: 'B-2', limit: 10 });
      expect(byOldMrn.items.map((item) => item.touchedPatientId)).toEqual([survivor]);
      const byName = await searchPatients(test.db, access(), { name: 'okafor', limit: 10 });
      expect(byName.items.map((item) => item.touchedPatientId)).toEqual([survivor]);
    });
  });

  it('serves census, board, locations and encounters without the identity tables', async () => {
    const role = `mx_no_identity_${randomBytes(3).toString('hex')}`;
    await test.db.query(`CREATE ROLE ${role}`);
    const db = createDb(test.url, { role });
    try {
      await test.db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await test.db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      await test.db.query(`REVOKE ALL ON patient_identity, patient_identifier FROM ${role}`);
      // The role really cannot read identity …
      const denied = await db.query('SELECT 1 FROM patient_identity').catch((e: unknown) => e);
      expect((denied as { code?: string }).code).toBe('42501');
      // … and the operational reads need none.
      expect(await censusAt(db, { at: new Date('2026-01-02T00:00:00Z') })).toEqual([
        { department: 'MED', name: 'Medicine', occupied: 1, beds: 1 },
      ]);
      expect((await loadBoardBedsByDepartment(db, 'MED')).map((bed) => bed.status)).toEqual([
        'occupied',
      ]);
      expect((await listLocations(db)).map((location) => location.kind)).toEqual([
        'department',
        'room',
        'bed',
      ]);
      const encounters = await exportEncounterRecords(db, access(), { afterId: null, limit: 10 });
      expect(encounters.map((encounter) => encounter.patientId)).toEqual([survivor]);
    } finally {
      await db.end();
      await test.db.query(`DROP OWNED BY ${role}`);
      await test.db.query(`DROP ROLE ${role}`);
    }
  });
});

describe('a feed updating demographics (A08)', () => {
  it("replaces the patient's first name in the record too, keeping the others", async () => {
    const id = await withTransaction(test.db, async (tx) => {
      const record = person('D-4', 'Adeyemi', {
        names: [
          { use: 'official', family: 'Adeyemi', given: ['Tolu'] },
          { use: 'nickname', given: ['T'] },
        ],
      });
      return (await upsertPatientRecord(tx, record)).patientId;
    });
    await updatePatientIdentity(test.db, id, {
      familyName: 'Adeyemi-Cole',
      givenName: null,
      birthDate: null,
      sex: null,
    });
    const record = await getPatientRecord(test.db, access(), id);
    expect(record.names).toEqual([
      { use: 'official', family: 'Adeyemi-Cole', given: ['Tolu'] },
      { use: 'nickname', given: ['T'] },
    ]);
    expect(record.read.view).toMatchObject({ familyName: 'Adeyemi-Cole', givenName: 'Tolu' });
  });
});
