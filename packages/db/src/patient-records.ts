import { ErrorCode, MedaxisError } from '@medaxis/domain';

import { consentVisibilitySql } from './consent.ts';
import { getPatient, type PatientAccess, type PatientRead } from './patients.ts';
import type { Queryable, Tx } from './pool.ts';
import { Params } from './sql-params.ts';

/*
 * The patient data service's demographics: every identifier, name, address, contact point and
 * contact of a patient, apart from operational rows (patient_identity, patient_identifier).
 * Writers are the feeds and imports (as the system); readers take the request's access
 * decision like every other patient read (patients.ts).
 */

/** FHIR HumanName, the parts MedAxis keeps. */
export interface HumanName {
  use?: string | undefined;
  text?: string | undefined;
  family?: string | undefined;
  given?: string[] | undefined;
  prefix?: string[] | undefined;
  suffix?: string[] | undefined;
}

/** FHIR ContactPoint: phone, email, … */
export interface ContactPoint {
  system?: string | undefined;
  value?: string | undefined;
  use?: string | undefined;
}

/** FHIR Address. */
export interface PostalAddress {
  use?: string | undefined;
  text?: string | undefined;
  line?: string[] | undefined;
  city?: string | undefined;
  district?: string | undefined;
  state?: string | undefined;
  postalCode?: string | undefined;
  country?: string | undefined;
}

/** Next of kin, guardian, emergency contact. */
export interface PatientContact {
  relationship?: string[] | undefined;
  name?: HumanName | undefined;
  telecom?: ContactPoint[] | undefined;
  address?: PostalAddress | undefined;
}

/** One identifier: `system` is the assigning authority (HL7 CX-4, FHIR Identifier.system). */
export interface PatientIdentifierInput {
  system: string;
  value: string;
  /** HL7 table 0203: MR, SS, DL, PPN, … */
  type?: string | null | undefined;
}

export interface PatientRecordInput {
  /** An id to create the patient under (an import keeping the source's id), else generated. */
  id?: string | undefined;
  /**
   * The medical record number and its assigning authority: patient_identity's key. Null for a
   * patient known by an opaque id only (no identity row at all).
   */
  mrn: { authority: string; value: string } | null;
  /** Every identifier, the MRN among them or not (it is added). */
  identifiers: readonly PatientIdentifierInput[];
  names: readonly HumanName[];
  /** YYYY-MM-DD. */
  birthDate: string | null;
  /** HL7 administrative sex: M, F, O, U. */
  sex: string | null;
  addresses: readonly PostalAddress[];
  telecom: readonly ContactPoint[];
  contacts: readonly PatientContact[];
  deceasedAt: Date | null;
  managingOrganizationId: string | null;
}

/**
 * The patient an identifier names, whichever of its identifiers it is, following merges: an
 * identifier an A40 retired (hl7_patient_alias) and a patient merged away (merged_into_id)
 * both lead to the survivor. Undefined when no patient has it.
 */
export async function resolvePatientIdentifier(
  db: Queryable,
  system: string,
  value: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string | null }>(`SELECT ${patientByIdentifier} AS id`, [
    system,
    value,
  ]);
  return rows[0]?.id ?? undefined;
}

/**
 * resolvePatientIdentifier as an SQL expression, the identifier's system in $1 and its value
 * in $2 (the HL7 feed's lookup reads it with the location in one statement).
 */
export const patientByIdentifier = `coalesce(
  (SELECT patient_id FROM hl7_patient_alias WHERE authority = $1 AND mrn = $2),
  (SELECT coalesce(p.merged_into_id, p.id) FROM patient_identifier pi
     JOIN patient p ON p.id = pi.patient_id
    WHERE pi.system = $1 AND pi.value = $2),
  (SELECT coalesce(p.merged_into_id, p.id) FROM patient_identity i
     JOIN patient p ON p.id = i.patient_id
    WHERE i.authority = $1 AND i.mrn = $2))`;

/**
 * Creates or replaces a patient's demographics, as a source that is authoritative for them
 * (a FHIR Patient, a Synthea row) states them. The patient is found by `id`, else by its MRN;
 * identifiers are only ever added, so old ones keep resolving. An identifier that already
 * names another patient (the same national number under another MRN) is refused (CONFLICT
 * identifier_in_use): matching and merging are explicit acts, never a side effect of an import.
 */
export async function upsertPatientRecord(
  tx: Tx,
  input: PatientRecordInput,
): Promise<{ patientId: string; created: boolean }> {
  const identifiers = input.mrn ? withMrn(input.mrn, input.identifiers) : [...input.identifiers];
  let patientId: string | undefined;
  if (input.id) {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT coalesce(merged_into_id, id) AS id FROM patient WHERE id = $1`,
      [input.id],
    );
    patientId = rows[0]?.id;
  }
  if (input.mrn) {
    patientId ??= await resolvePatientIdentifier(tx, input.mrn.authority, input.mrn.value);
  }
  for (const identifier of identifiers) {
    const owner = await resolvePatientIdentifier(tx, identifier.system, identifier.value);
    if (owner !== undefined && owner !== patientId) {
      throw new MedaxisError(
        ErrorCode.conflict,
        'identifier_in_use',
        'An identifier of this patient already belongs to another patient.',
      );
    }
  }

  const created = patientId === undefined;
  if (patientId === undefined) {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO patient (id) VALUES (coalesce($1::uuid, gen_random_uuid())) RETURNING id`,
      [input.id ?? null],
    );
    patientId = rows[0]!.id;
  }

  if (input.mrn === null) return { patientId, created };
  const first = input.names[0];
  const values = [
    patientId,
    input.mrn.value,
    input.mrn.authority,
    first?.family ?? null,
    first?.given?.join(' ') || null,
    input.birthDate,
    input.sex,
    json(input.addresses),
    json(input.names),
    json(input.telecom),
    json(input.contacts),
    input.deceasedAt,
    input.managingOrganizationId,
  ];
  // The MRN of an existing identity row stays its key; a new MRN is one more identifier.
  await tx.query(
    `INSERT INTO patient_identity
       (patient_id, mrn, authority, family_name, given_name, birth_date, sex, address, names,
        telecom, contacts, deceased_at, managing_organization_id)
     VALUES ($1, $2, $3, $4, $5, $6::date, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (patient_id) DO UPDATE
       SET family_name = excluded.family_name, given_name = excluded.given_name,
           birth_date = excluded.birth_date, sex = excluded.sex, address = excluded.address,
           names = excluded.names, telecom = excluded.telecom, contacts = excluded.contacts,
           deceased_at = excluded.deceased_at,
           managing_organization_id = excluded.managing_organization_id`,
    values,
  );
  await addIdentifiers(tx, patientId, identifiers);
  return { patientId, created };
}

function withMrn(
  mrn: { authority: string; value: string },
  identifiers: readonly PatientIdentifierInput[],
): PatientIdentifierInput[] {
  const all = [...identifiers];
  const has = all.some((i) => i.system === mrn.authority && i.value === mrn.value);
  if (!has) all.unshift({ system: mrn.authority, value: mrn.value, type: 'MR' });
  return all;
}

/** Adds identifiers a patient does not have yet (never removes one: old ones keep resolving). */
export async function addIdentifiers(
  db: Queryable,
  patientId: string,
  identifiers: readonly PatientIdentifierInput[],
): Promise<void> {
  if (identifiers.length === 0) return;
  await db.query(
    `INSERT INTO patient_identifier (patient_id, system, value, type)
     SELECT $1, s, v, t FROM unnest($2::text[], $3::text[], $4::text[]) AS x(s, v, t)
     ON CONFLICT (system, value) DO NOTHING`,
    [
      patientId,
      identifiers.map((i) => i.system),
      identifiers.map((i) => i.value),
      identifiers.map((i) => i.type ?? null),
    ],
  );
}

function json(value: readonly unknown[]): string | null {
  return value.length === 0 ? null : JSON.stringify(value);
}

/** Everything the service holds about a patient's identity, masked fields null or empty. */
export interface PatientRecord {
  read: PatientRead;
  /** The MRN that keys the identity row: [authority, value]. */
  identifiers: { system: string; value: string; type: string | null }[];
  names: HumanName[];
  addresses: PostalAddress[];
  telecom: ContactPoint[];
  contacts: PatientContact[];
  deceasedAt: string | null;
  managingOrganizationId: string | null;
  /** Patients merged into this one (their ids), for FHIR's `link`. */
  mergedFrom: string[];
}

interface RecordRow {
  patientId: string;
  names: HumanName[] | null;
  address: PostalAddress[] | null;
  telecom: ContactPoint[] | null;
  contacts: PatientContact[] | null;
  deceasedAt: string | null;
  managingOrganizationId: string | null;
  identifiers: { system: string; value: string; type: string | null }[] | null;
  mergedFrom: string[] | null;
}

/**
 * A patient's identifiers: their own (the MRN first), then those of patients merged into them,
 * then identifiers an A40 retired without a patient here (aliases), each once. A survivor thus
 * carries every identifier that leads to it, in an export too.
 */
const identifierList = `(
  SELECT json_agg(json_build_object('system', y.system, 'value', y.value, 'type', y.type)
                  ORDER BY y.rank, y.ord, y.system, y.value)
    FROM (SELECT DISTINCT ON (z.system, z.value) z.*
            FROM (SELECT x.system, x.value, x.type, x.id AS ord,
                         CASE WHEN x.patient_id = p.id AND x.system = i.authority
                                   AND x.value = i.mrn THEN 0 ELSE 1 END AS rank
                    FROM patient_identifier x
                   WHERE x.patient_id = p.id
                      OR x.patient_id IN (SELECT m.id FROM patient m WHERE m.merged_into_id = p.id)
                  UNION ALL
                  SELECT a.authority, a.mrn, 'MR', 0, 2 FROM hl7_patient_alias a
                   WHERE a.patient_id = p.id) z
           ORDER BY z.system, z.value, z.rank, z.ord) y)`;

const recordColumns = `p.id::text AS "patientId", i.names, i.address, i.telecom, i.contacts,
       to_json(i.deceased_at)#>>'{}' AS "deceasedAt",
       i.managing_organization_id::text AS "managingOrganizationId",
       ${identifierList} AS identifiers,
       (SELECT array_agg(m.id::text ORDER BY m.id) FROM patient m
         WHERE m.merged_into_id = p.id) AS "mergedFrom"`;

/**
 * One patient's whole record, through the access decision: NOT_FOUND alike for a patient that
 * does not exist and one out of view (getPatient decides). Identifiers, addresses, contact
 * points and contacts are identity beyond the MRN and name: only a full mask shows them.
 */
export async function getPatientRecord(
  db: Queryable,
  access: PatientAccess,
  patientId: string,
): Promise<PatientRecord> {
  const read = await getPatient(db, access, patientId);
  const { rows } = await db.query<RecordRow>(
    `SELECT ${recordColumns}
       FROM patient p LEFT JOIN patient_identity i ON i.patient_id = p.id
      WHERE p.id = $1::uuid`,
    [read.touchedPatientId],
  );
  return toRecord(read, rows[0], access);
}

function toRecord(read: PatientRead, row: RecordRow | undefined, access: PatientAccess) {
  const full = access.mask.level === 'full';
  const shows = (field: 'name' | 'mrn') => access.mask.fields.has(field);
  return {
    read,
    identifiers: full
      ? (row?.identifiers ?? [])
      : shows('mrn') && read.view.mrn
        ? [{ system: read.view.authority ?? '', value: read.view.mrn, type: 'MR' }]
        : [],
    names: shows('name') ? (row?.names ?? defaultNames(read)) : [],
    addresses: full ? (row?.address ?? []) : [],
    telecom: full ? (row?.telecom ?? []) : [],
    contacts: full ? (row?.contacts ?? []) : [],
    deceasedAt: full ? (row?.deceasedAt ?? null) : null,
    managingOrganizationId: row?.managingOrganizationId ?? null,
    mergedFrom: access.mask.fields.has('patientId') ? (row?.mergedFrom ?? []) : [],
  } satisfies PatientRecord;
}

function defaultNames(read: PatientRead): HumanName[] {
  const { familyName, givenName } = read.view;
  if (!familyName && !givenName) return [];
  return [
    {
      ...(familyName ? { family: familyName } : {}),
      ...(givenName ? { given: givenName.split(' ') } : {}),
    },
  ];
}

/**
 * Every patient the filter shows, with their whole record, in id order, a page at a time:
 * the population of a FHIR export. Merged-away patients are left out (their identifiers are
 * on the survivor).
 */
export async function exportPatientRecords(
  db: Queryable,
  access: PatientAccess,
  page: { afterId: string | null; limit: number },
): Promise<PatientRecord[]> {
  if (access.mask.level !== 'full') {
    throw new MedaxisError(ErrorCode.forbidden, 'export_needs_identity', 'Not allowed.');
  }
  const params = new Params();
  const consent = consentVisibilitySql('p.id', access.filter, params);
  const after = params.add(page.afterId);
  const { rows } = await db.query<
    RecordRow & {
      mrn: string | null;
      authority: string | null;
      familyName: string | null;
      givenName: string | null;
      birthDate: string | null;
      sex: string | null;
    }
  >(
    `SELECT ${recordColumns}, i.mrn, i.authority, i.family_name AS "familyName",
            i.given_name AS "givenName", to_char(i.birth_date, 'YYYY-MM-DD') AS "birthDate",
            i.sex
       FROM patient p LEFT JOIN patient_identity i ON i.patient_id = p.id
       ${consent.join}
      WHERE p.merged_into_id IS NULL AND ${consent.visible}
        AND (${after}::uuid IS NULL OR p.id > ${after}::uuid)
      ORDER BY p.id
      LIMIT ${params.add(page.limit)}`,
    params.values,
  );
  return rows.map((row) => {
    const read: PatientRead = {
      touchedPatientId: row.patientId,
      view: {
        patientId: row.patientId,
        mrn: row.mrn,
        authority: row.authority,
        familyName: row.familyName,
        givenName: row.givenName,
        birthDate: row.birthDate,
        sex: row.sex,
        encounterId: null,
        encounterClass: null,
        bedCode: null,
        departmentCode: null,
        inBedSince: null,
        breakGlass: false,
      },
    };
    return toRecord(read, row, access);
  });
}
