import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AuditWriter } from '@medaxis/audit';
import { departmentCodePattern, mergePatients, withTransaction } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { codeOf, isUuid } from '../src/fhir/codes.ts';
import { exportFhir, importFhir, medaxisId, type FhirImportReport } from '../src/index.ts';
import {
  emergencyEncounter,
  fhirSkipNote,
  hasFhirExamples,
  syntheaFhirDir,
  systemAccess,
  writeFixtureDir,
} from './fhir-fixture.ts';

const everything = systemAccess('patient.export');

let test: TestDatabase;
let fixtureDir: string;
let first: FhirImportReport;
let emergency: FhirImportReport;

beforeAll(async () => {
  if (!hasFhirExamples) return;
  test = await createTestDatabase('fhir_import');
  fixtureDir = await writeFixtureDir();
  const audit = new AuditWriter(test.db);
  first = await importFhir(test.db, { paths: [syntheaFhirDir, fixtureDir], audit });
  emergency = await importFhir(test.db, { paths: [emergencyEncounter], audit });
  await audit.close();
});

afterAll(async () => {
  await test?.drop();
  if (fixtureDir) await rm(fixtureDir, { recursive: true, force: true });
});

/** The Locations of Synthea's hospital bundle, read where it lies. */
async function syntheaLocations(): Promise<{ id: string; name?: string }[]> {
  const files = (await readdir(syntheaFhirDir)).filter((f) => f.startsWith('hospital'));
  const bundles = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(join(syntheaFhirDir, file), 'utf8');
      type Resource = { resourceType: string; id: string; name?: string };
      return JSON.parse(text) as { entry: { resource: Resource }[] };
    }),
  );
  return bundles
    .flatMap((bundle) => bundle.entry.map((entry) => entry.resource))
    .filter((resource) => resource.resourceType === 'Location');
}

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await test.db.query(sql, params);
  return rows[0] as T;
}

describe.skipIf(!hasFhirExamples)(`FHIR R4 import${fhirSkipNote}`, () => {
  it("imports Synthea's organizations, locations, practitioners and roles, rejecting none", () => {
    expect(first.byType.Organization).toEqual({ read: 43, applied: 43, rejected: 0 });
    expect(first.byType.Practitioner).toEqual({ read: 43, applied: 43, rejected: 0 });
    expect(first.byType.PractitionerRole).toEqual({ read: 43, applied: 43, rejected: 0 });
  });

  it('links a practitioner to the organization its role names', async () => {
    const row = await one<{ organization: string; specialty: string }>(
      `SELECT o.name AS organization, p.specialty FROM practitioner p
         JOIN organization o ON o.id = p.organization_id
        WHERE p.identifiers @> '[{"value":"9999984591"}]'`,
    );
    expect(row).toEqual({
      organization: 'Fitchburg Outpatient Clinic',
      specialty: 'General Practice Physician',
    });
  });

  it('counts every entry once, and keeps each rejected one with its reason', async () => {
    expect(first.entries.read).toBe(first.entries.applied + first.entries.rejected);
    expect(first.rejectedByReason).toEqual({
      invalid_json: 1,
      invalid_resource: 1,
      unknown_class: 1,
      unknown_patient: 1,
      unsupported_resource_type: 1,
    });
    const kept = await test.db.query<{ row: number; code: string }>(
      `SELECT row_number AS row, code FROM import_rejection WHERE run_id = $1
        ORDER BY row_number`,
      [first.runId],
    );
    expect(kept.rows.map((r) => `${r.row} ${r.code}`)).toEqual([
      '1 invalid_resource',
      '2 unsupported_resource_type',
      '3 unknown_patient',
      '4 unknown_class',
      '5 invalid_json',
    ]);
  });

  it('keeps every identifier, name, address and contact of a patient', async () => {
    const id = medaxisId('Patient', 'example');
    const identity = await one<Record<string, unknown>>(
      `SELECT mrn, authority, family_name AS "familyName", given_name AS "givenName",
              to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", sex,
              jsonb_array_length(names) AS names, contacts->0->'name'->>'family' AS contact
         FROM patient_identity WHERE patient_id = $1`,
      [id],
    );
    expect(identity).toEqual({
      mrn: '12345',
      authority: 'urn:oid:1.2.36.146.595.217.0.1',
      familyName: 'Chalmers',
      givenName: 'Peter James',
      birthDate: '1974-12-25',
      sex: 'M',
      names: 2,
      contact: 'du Marché',
    });
    const identifiers = await test.db.query<{ system: string; value: string }>(
      `SELECT system, value FROM patient_identifier WHERE patient_id = $1 ORDER BY id`,
      [id],
    );
    expect(identifiers.rows).toEqual([
      { system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' },
      { system: 'http://ns.electronichealth.net.au/id/medicare-number', value: '6603' },
    ]);
  });

  it('turns location history into bed stays through admit, transfer and discharge', async () => {
    const stays = await test.db.query<{ bed: string; startAt: Date; endAt: Date | null }>(
      `SELECT b.code AS bed, s.start_at AS "startAt", s.end_at AS "endAt", s.end_reason AS why
         FROM bed_stay s JOIN bed b ON b.id = s.bed_id
        WHERE s.encounter_id = $1 ORDER BY s.start_at`,
      [medaxisId('Encounter', 'second-visit')],
    );
    expect(stays.rows).toEqual([
      {
        bed: 'W1-7-A',
        startAt: new Date('2017-01-10T07:00:00Z'),
        endAt: new Date('2017-01-11T08:00:00Z'),
        why: 'transfer',
      },
      {
        bed: 'W1-7-D',
        startAt: new Date('2017-01-11T08:00:00Z'),
        endAt: new Date('2017-01-12T09:00:00Z'),
        why: 'discharge',
      },
    ]);
    const events = await test.db.query<{ type: string; source: string }>(
      `SELECT type, source FROM event WHERE encounter_id = $1 ORDER BY id`,
      [medaxisId('Encounter', 'second-visit')],
    );
    expect(events.rows.map((e) => `${e.type} ${e.source}`)).toEqual([
      'admit import:fhir',
      'transfer import:fhir',
      'discharge import:fhir',
    ]);
  });

  it('sets bed status from HL7 0116: K blocked as contaminated, I isolated, U free', async () => {
    const { rows } = await test.db.query<Record<string, unknown>>(
      `SELECT code, status::text, status_reason AS reason, isolation FROM bed
        WHERE code LIKE 'W1-7-%' ORDER BY code`,
    );
    expect(rows).toEqual([
      { code: 'W1-7-A', status: 'free', reason: null, isolation: false },
      { code: 'W1-7-B', status: 'blocked', reason: 'contaminated', isolation: false },
      { code: 'W1-7-C', status: 'free', reason: null, isolation: true },
      { code: 'W1-7-D', status: 'free', reason: null, isolation: false },
    ]);
  });

  it("reads the spec's ED-to-inpatient example: one stay, bed held on leave", async () => {
    expect(emergency.entries).toEqual({ read: 1, applied: 1, rejected: 0 });
    expect(emergency.notes).toMatchObject({
      'bed held while on leave: the stay goes on': 1,
      'bed named only in text: created and flagged for review': 1,
      'location without a bed: not a bed stay': 2,
    });
    const row = await one<Record<string, unknown>>(
      `SELECT b.code, b.status::text, b.needs_review AS review, s.start_at AS "startAt",
              s.end_at AS "endAt", e.class::text, e.status::text AS visit,
              e.admitted_at AS "admittedAt"
         FROM bed_stay s JOIN bed b ON b.id = s.bed_id JOIN encounter e ON e.id = s.encounter_id
        WHERE e.source_system = 'fhir' AND e.source_ref = 'emerg'`,
    );
    expect(row).toEqual({
      code: 'WARD-1-ROOM-42-BED-1',
      status: 'occupied',
      review: true,
      startAt: new Date('2017-01-31T23:27:00Z'),
      endAt: null,
      class: 'inpatient',
      visit: 'in_progress',
      admittedAt: new Date('2017-01-31T21:15:00Z'),
    });
  });

  it('audits every patient and encounter it wrote as the system, source import:fhir', async () => {
    const { rows } = await test.db.query<{ operation: string; n: number }>(
      `SELECT operation, count(*)::int AS n FROM audit_event
        WHERE source = 'import:fhir' AND actor_kind = 'system' AND action = 'write'
        GROUP BY operation ORDER BY operation`,
    );
    expect(rows).toEqual([
      { operation: 'import.fhir.Encounter', n: 2 },
      { operation: 'import.fhir.Patient', n: 2 },
    ]);
  });

  it('applies an entry whole or not at all: a visit into an occupied bed leaves none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medaxis-fhir-clash-'));
    try {
      const clash = {
        resourceType: 'Encounter',
        id: 'clash',
        status: 'in-progress',
        class: { code: 'IMP' },
        subject: { reference: 'Patient/second' },
        location: [
          {
            location: { reference: 'Location/bed-WARD-1-ROOM-42-BED-1' },
            period: { start: '2017-02-02T10:00:00Z' },
          },
        ],
      };
      const closeOccupied = {
        resourceType: 'Location',
        id: 'WARD-1-ROOM-42-BED-1',
        identifier: [{ system: 'urn:medaxis:bed', value: 'WARD-1-ROOM-42-BED-1' }],
        physicalType: { coding: [{ code: 'bd' }] },
        partOf: { reference: 'Location/ward-1' },
        operationalStatus: { code: 'C' },
      };
      const ward = {
        resourceType: 'Location',
        id: 'ward-1',
        name: 'Ward 1',
      };
      await writeFile(
        join(dir, 'clash.ndjson'),
        [ward, closeOccupied, clash].map((r) => JSON.stringify(r)).join('\n'),
      );
      const report = await importFhir(test.db, { paths: [dir] });
      expect(report.rejectedByReason).toEqual({ bed_occupied: 1, bed_status_unreachable: 1 });
      const { rows } = await test.db.query(`SELECT 1 FROM encounter WHERE id = $1`, [
        medaxisId('Encounter', 'clash'),
      ]);
      expect(rows).toEqual([]);
      const bed = await one<{ status: string }>(
        `SELECT status::text FROM bed WHERE code = 'WARD-1-ROOM-42-BED-1'`,
      );
      expect(bed.status).toBe('occupied');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses the DELETE entries of a transaction instead of storing them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medaxis-fhir-delete-'));
    try {
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Organization', id: 'kept', name: 'Kept Clinic' },
            request: { method: 'PUT', url: 'Organization/kept' },
          },
          { request: { method: 'DELETE', url: 'Patient/example' } },
        ],
      };
      await writeFile(join(dir, 'transaction.json'), JSON.stringify(bundle));
      const report = await importFhir(test.db, { paths: [dir] });
      expect(report.rejectedByReason).toEqual({ unsupported_request: 1 });
      expect(report.byType.Organization).toEqual({ read: 1, applied: 1, rejected: 0 });
      const { rows } = await test.db.query(`SELECT 1 FROM patient WHERE id = $1`, [
        medaxisId('Patient', 'example'),
      ]);
      expect(rows).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("flags Synthea's locations' departments for review, codes of 1 to 32", async () => {
    const locations = await syntheaLocations();
    const names = new Set(locations.flatMap((l) => (l.name?.trim() ? [l.name.trim()] : [])));
    const unnamed = locations.filter((l) => !l.name?.trim());
    const { rows } = await test.db.query<{ code: string; name: string; review: boolean }>(
      `SELECT code, name, needs_review AS review FROM department WHERE name = ANY($1::text[])
          OR name LIKE ANY($2::text[])`,
      [[...names], unnamed.map((l) => `% ${l.id}`)],
    );

    // One department per distinct name (two Synthea clinics share one), one per nameless home.
    expect(unnamed.length).toBeGreaterThan(0);
    expect(rows).toHaveLength(names.size + unnamed.length);
    expect(rows.filter((row) => !row.review)).toEqual([]);
    expect(rows.filter((row) => !departmentCodePattern.test(row.code))).toEqual([]);
    expect(new Set(rows.map((row) => row.code)).size).toBe(rows.length);
    expect(rows.filter((row) => isUuid(row.code.toLowerCase()))).toEqual([]);
    const longest = [...names].sort((a, b) => b.length - a.length)[0]!;
    const code = rows.find((row) => row.name === longest)!.code;
    expect(codeOf(longest).length).toBeGreaterThan(32);
    expect(codeOf(longest).startsWith(code.replace(/-[0-9A-F]{6}$/, ''))).toBe(true);
  });

  it('changes nothing when the same files are imported again', async () => {
    const before = await one<{ events: number; stays: number; patients: number }>(
      `SELECT (SELECT count(*) FROM event)::int AS events,
              (SELECT count(*) FROM bed_stay)::int AS stays,
              (SELECT count(*) FROM patient)::int AS patients,
              (SELECT string_agg(concat_ws(' ', code, name, needs_review, sort_order), ', '
                                 ORDER BY code) FROM department) AS departments`,
    );
    const again = await importFhir(test.db, {
      paths: [syntheaFhirDir, fixtureDir, emergencyEncounter],
    });
    expect(again.commands).toBe(0);
    expect(again.rejectionsAlreadyKept).toBe(5);
    const after = await one(
      `SELECT (SELECT count(*) FROM event)::int AS events,
              (SELECT count(*) FROM bed_stay)::int AS stays,
              (SELECT count(*) FROM patient)::int AS patients,
              (SELECT string_agg(concat_ws(' ', code, name, needs_review, sort_order), ', '
                                 ORDER BY code) FROM department) AS departments`,
    );
    expect(after).toEqual(before);
  });

  it('exports NDJSON that imports into a fresh database and exports identically', async () => {
    const out1 = await mkdtemp(join(tmpdir(), 'medaxis-export-1-'));
    const out2 = await mkdtemp(join(tmpdir(), 'medaxis-export-2-'));
    const fresh = await createTestDatabase('fhir_roundtrip');
    try {
      const exported = await exportFhir(test.db, { dir: out1, access: everything });
      expect(exported.resources).toMatchObject({
        Organization: 44,
        Practitioner: 43,
        PractitionerRole: 43,
        Patient: 2,
        Encounter: 2,
      });
      const reimported = await importFhir(fresh.db, { paths: [out1] });
      expect(reimported.rejectedByReason).toEqual({});
      await exportFhir(fresh.db, { dir: out2, access: everything });

      const files = (await readdir(out1)).sort();
      expect(files).toEqual([
        'Encounter.ndjson',
        'Location.ndjson',
        'Organization.ndjson',
        'Patient.ndjson',
        'Practitioner.ndjson',
        'PractitionerRole.ndjson',
      ]);
      for (const file of files) {
        const [a, b] = await Promise.all([
          readFile(join(out1, file), 'utf8'),
          readFile(join(out2, file), 'utf8'),
        ]);
        expect(b, file).toBe(a);
      }
      const patient = (await readFile(join(out1, 'Patient.ndjson'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; name?: unknown[] })
        .find((p) => p.id === medaxisId('Patient', 'example'));
      expect(patient?.name).toHaveLength(2);
    } finally {
      await fresh.drop();
      await rm(out1, { recursive: true, force: true });
      await rm(out2, { recursive: true, force: true });
    }
  });

  it('exports a merge as the survivor carrying every identifier, and round-trips it', async () => {
    const { rows } = await test.db.query<{ id: string }>(
      `INSERT INTO hl7_message (peer, raw, payload_hash) VALUES ('test', '\\x41', 'h')
       RETURNING id`,
    );
    await withTransaction(test.db, (tx) =>
      mergePatients(tx, {
        survivorId: medaxisId('Patient', 'example'),
        priorId: medaxisId('Patient', 'second'),
        prior: { authority: 'urn:oid:1.2.36.146.595.217.0.1', mrn: '67890' },
        messageId: rows[0]!.id,
      }),
    );
    const out1 = await mkdtemp(join(tmpdir(), 'medaxis-merge-1-'));
    const out2 = await mkdtemp(join(tmpdir(), 'medaxis-merge-2-'));
    const fresh = await createTestDatabase('fhir_merge');
    try {
      const first = await exportFhir(test.db, { dir: out1, access: everything });
      expect(first.resources.Patient).toBe(1);
      const patient = JSON.parse(await readFile(join(out1, 'Patient.ndjson'), 'utf8')) as {
        identifier: { value: string }[];
      };
      expect(patient.identifier.map((i) => i.value)).toEqual(['12345', '6603', '67890']);
      const reimported = await importFhir(fresh.db, { paths: [out1] });
      expect(reimported.rejectedByReason).toEqual({});
      await exportFhir(fresh.db, { dir: out2, access: everything });
      for (const file of await readdir(out1)) {
        expect(await readFile(join(out2, file), 'utf8'), file).toBe(
          await readFile(join(out1, file), 'utf8'),
        );
      }
    } finally {
      await fresh.drop();
      await rm(out1, { recursive: true, force: true });
      await rm(out2, { recursive: true, force: true });
    }
  });
});
