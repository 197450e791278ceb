import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PatientAccess } from '@medaxis/db';
import { realdataDir, repoRoot } from '@medaxis/db/testing';
import { decideAccess, loadPolicyConfig, type Permission } from '@medaxis/policy';

/** Real FHIR R4 files, read where they lie (never copied into the repository). */
export const realdata = realdataDir;
export const emergencyEncounter = join(realdata, 'fhir-r4-examples/Encounter-emerg.r4.json');
export const syntheaFhirDir = join(realdata, 'synthea-csv-ma-10/fhir');
export const hasFhirExamples = existsSync(emergencyEncounter) && existsSync(syntheaFhirDir);
export const fhirSkipNote = hasFhirExamples ? '' : ` (skipped: ${realdata} FHIR files are missing)`;

const physical = (code: string) => ({
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code }],
});
const status0116 = (code: string) => ({
  system: 'http://terminology.hl7.org/CodeSystem/v2-0116',
  code,
});

/**
 * A small hospital written as an integrator would send it: a ward with a room of three beds
 * (one contaminated, one isolated), the patient of the spec's Encounter example, and a second
 * patient admitted, transferred and discharged.
 */
export function hospitalBundle() {
  const entries = [
    {
      resourceType: 'Location',
      id: 'ward-1',
      name: 'Ward 1',
      type: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'HU' }] },
      ],
      physicalType: physical('wa'),
    },
    {
      resourceType: 'Location',
      id: 'ward-1-room-7',
      name: '7',
      physicalType: physical('ro'),
      partOf: { reference: 'Location/ward-1' },
    },
    ...['W1-7-A', 'W1-7-B', 'W1-7-C', 'W1-7-D'].map((id, index) => ({
      resourceType: 'Location',
      id,
      name: id,
      physicalType: physical('bd'),
      partOf: { reference: 'Location/ward-1-room-7' },
      operationalStatus: status0116(['U', 'K', 'I', 'U'][index]!),
    })),
    {
      resourceType: 'Patient',
      id: 'example',
      identifier: [
        {
          type: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }],
          },
          system: 'urn:oid:1.2.36.146.595.217.0.1',
          value: '12345',
        },
        { system: 'http://ns.electronichealth.net.au/id/medicare-number', value: '6603' },
      ],
      name: [
        { use: 'official', family: 'Chalmers', given: ['Peter', 'James'] },
        { use: 'usual', given: ['Jim'] },
      ],
      telecom: [{ system: 'phone', value: '(03) 5555 6473', use: 'work' }],
      gender: 'male',
      birthDate: '1974-12-25',
      address: [
        { use: 'home', line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' },
      ],
      contact: [
        {
          relationship: [{ coding: [{ code: 'N' }], text: 'next of kin' }],
          name: { family: 'du Marché', given: ['Bénédicte'] },
          telecom: [{ system: 'phone', value: '+33 (237) 998327' }],
        },
      ],
    },
    {
      resourceType: 'Patient',
      id: 'second',
      identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '67890' }],
      name: [{ family: 'Östlund', given: ['Åsa'] }],
      gender: 'female',
      birthDate: '1990-03-01',
    },
    {
      resourceType: 'Encounter',
      id: 'second-visit',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject: { reference: 'Patient/second' },
      period: { start: '2017-01-10T08:00:00+01:00', end: '2017-01-12T10:00:00+01:00' },
      location: [
        {
          location: { reference: 'Location/W1-7-A' },
          status: 'completed',
          period: { start: '2017-01-10T08:00:00+01:00', end: '2017-01-11T09:00:00+01:00' },
        },
        {
          location: { reference: 'Location/W1-7-D' },
          status: 'completed',
          period: { start: '2017-01-11T09:00:00+01:00', end: '2017-01-12T10:00:00+01:00' },
        },
      ],
    },
  ];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: entries.map((resource) => ({ resource })),
  };
}

/** Lines an integrator gets wrong: each must be rejected with its reason, the rest applied. */
export const badLines = [
  '{"resourceType":"Patient","name":[{"family":"No id"}]}',
  '{"resourceType":"Observation","id":"o1","status":"final"}',
  '{"resourceType":"Encounter","id":"orphan","status":"finished",' +
    '"class":{"code":"AMB"},"subject":{"reference":"Patient/nobody"}}',
  '{"resourceType":"Encounter","id":"odd-class","status":"finished",' +
    '"class":{"code":"XYZ"},"subject":{"reference":"Patient/second"}}',
  '{"resourceType":"Patient", this is not json',
];

export async function writeFixtureDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medaxis-fhir-'));
  await writeFile(join(dir, 'hospital.json'), JSON.stringify(hospitalBundle(), null, 2));
  await writeFile(join(dir, 'mistakes.ndjson'), `${badLines.join('\n')}\n`);
  return dir;
}

/** The system's access decision, as the CLI takes it, for `permission` (operations). */
export function systemAccess(permission: Permission): PatientAccess {
  const config = loadPolicyConfig(join(repoRoot, 'config'));
  const decision = decideAccess({
    ...config,
    actor: { kind: 'system', id: 'system', roles: ['system'], departments: '*' },
    permission,
    purpose: 'operations',
    patientData: true,
    breakGlass: [],
    now: new Date(),
  });
  if (!decision.allow) throw new Error(`system denied ${permission}`);
  return { filter: decision.rowFilter, mask: decision.fieldMask };
}
