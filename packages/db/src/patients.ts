import { ErrorCode, MedaxisError } from '@medaxis/domain';
import type { FieldMask, IdentityField, RowFilter } from '@medaxis/policy';

import { departmentOrderBy } from './catalog.ts';
import { consentVisibilitySql } from './consent.ts';
import type { Queryable } from './pool.ts';
import { Params } from './sql-params.ts';

/*
 * The patient data repository: the one place SQL reads patient identity. Every function takes
 * the request's row filter and field mask from the access decision (packages/policy
 * `decideAccess`), which only that decision can make, so no caller reaches a patient around it:
 * rows outside the filter are never selected, and masked fields are never read.
 */

/** What the access decision grants a request over patients. */
export interface PatientAccess {
  filter: RowFilter;
  mask: FieldMask;
}

/** A patient as a response shows them: identity fields the mask hides are null. */
export interface PatientView {
  /** Opaque id, null when the mask hides even that (de-identified reads). */
  patientId: string | null;
  mrn: string | null;
  /** Assigning authority of the MRN. */
  authority: string | null;
  familyName: string | null;
  givenName: string | null;
  /** YYYY-MM-DD. */
  birthDate: string | null;
  sex: string | null;
  /** The current encounter's id (opaque), null when masked or when there is none. */
  encounterId: string | null;
  encounterClass: string | null;
  /** Where the patient lies now: operational, never masked. */
  bedCode: string | null;
  departmentCode: string | null;
  /** Since when the patient has been in that bed (ISO instant). */
  inBedSince: string | null;
  /** Only an active break-glass override puts this patient in view: flagged for review. */
  breakGlass: boolean;
}

/** A row read for a request: the view, and the patient's id for the audit trail only. */
export interface PatientRead {
  view: PatientView;
  touchedPatientId: string;
}

function shows(mask: FieldMask, field: IdentityField): boolean {
  return mask.fields.has(field);
}

/** The identity columns of `p` and `i`, NULL where the mask hides them. */
function identityColumns(mask: FieldMask): string {
  const column = (field: IdentityField, sql: string, name: string) =>
    `${shows(mask, field) ? sql : 'NULL::text'} AS "${name}"`;
  return [
    column('patientId', 'p.id::text', 'patientId'),
    column('mrn', 'i.mrn', 'mrn'),
    column('mrn', 'i.authority', 'authority'),
    column('name', 'i.family_name', 'familyName'),
    column('name', 'i.given_name', 'givenName'),
    column('birthDate', `to_char(i.birth_date, 'YYYY-MM-DD')`, 'birthDate'),
    column('sex', 'i.sex', 'sex'),
    column('patientId', 'e.id::text', 'encounterId'),
  ].join(',\n         ');
}

const placeColumns = `e.class::text AS "encounterClass", b.code AS "bedCode",
         d.code AS "departmentCode", to_json(b.status_since)#>>'{}' AS "inBedSince"`;

/** Patients lying in a bed now: the population of lists, counts and exports. */
function inBedQuery(access: PatientAccess, department: string | undefined, params: Params) {
  const consent = consentVisibilitySql('p.id', access.filter, params);
  const scope =
    access.filter.departments === '*'
      ? 'true'
      : `d.code = ANY(${params.add(access.filter.departments)}::text[])`;
  const only = department === undefined ? 'true' : `d.code = ${params.add(department)}`;
  return {
    from: `bed b
      JOIN room r ON r.id = b.room_id
      JOIN department d ON d.id = r.department_id
      JOIN encounter e ON e.id = b.encounter_id
      JOIN patient p ON p.id = e.patient_id
      LEFT JOIN patient_identity i ON i.patient_id = p.id
      ${consent.join}`,
    where: `b.status = 'occupied' AND ${scope} AND ${only} AND ${consent.visible}`,
    breakGlass: consent.breakGlass,
  };
}

function toRead(row: PatientView & { touchedPatientId: string }): PatientRead {
  const { touchedPatientId, ...view } = row;
  return { view, touchedPatientId };
}

/** Patients in beds now, in the filter's departments (or one of them), in bed order. */
export async function listInpatients(
  db: Queryable,
  access: PatientAccess,
  options: { department?: string | undefined; limit: number; offset: number },
): Promise<PatientRead[]> {
  const params = new Params();
  const query = inBedQuery(access, options.department, params);
  const { rows } = await db.query<PatientView & { touchedPatientId: string }>(
    `SELECT ${identityColumns(access.mask)},
         ${placeColumns},
         ${query.breakGlass} AS "breakGlass",
         p.id::text AS "touchedPatientId"
       FROM ${query.from}
      WHERE ${query.where}
      ORDER BY ${departmentOrderBy('d')}, b.code
      LIMIT ${params.add(options.limit)} OFFSET ${params.add(options.offset)}`,
    params.values,
  );
  return rows.map(toRead);
}

/** How many patients in beds now the filter shows, per department and in all. */
export async function countInpatients(
  db: Queryable,
  access: PatientAccess,
  options: { department?: string | undefined },
): Promise<{ total: number; byDepartment: { department: string; patients: number }[] }> {
  const params = new Params();
  const query = inBedQuery(access, options.department, params);
  const { rows } = await db.query<{ department: string; patients: number }>(
    `SELECT d.code AS department, count(*)::int AS patients
       FROM ${query.from}
      WHERE ${query.where}
      GROUP BY d.id
      ORDER BY ${departmentOrderBy('d')}`,
    params.values,
  );
  return { total: rows.reduce((sum, row) => sum + row.patients, 0), byDepartment: rows };
}

/** Every patient in a bed now that the filter shows, for an export (no paging). */
export async function exportInpatients(
  db: Queryable,
  access: PatientAccess,
  options: { department?: string | undefined },
): Promise<PatientRead[]> {
  return listInpatients(db, access, { ...options, limit: 100_000, offset: 0 });
}

/**
 * A patient's current place (bed, else open encounter), used by get and search: the
 * patient's latest open encounter, and the bed it occupies if any.
 */
const currentPlace = `
      LEFT JOIN LATERAL (
        SELECT e.* FROM encounter e
         WHERE e.patient_id = p.id AND e.status IN ('planned', 'in_progress')
         ORDER BY e.status = 'in_progress' DESC, e.created_at DESC, e.id
         LIMIT 1) e ON true
      LEFT JOIN bed b ON b.encounter_id = e.id AND b.status = 'occupied'
      LEFT JOIN room r ON r.id = b.room_id
      LEFT JOIN department d ON d.id = coalesce(r.department_id, e.department_id)`;

/**
 * The department condition for a patient outside the in-bed population: in scope when one of
 * their open encounters is in a department of the scope, by its bed or its own department.
 */
function patientScopeSql(filter: RowFilter, params: Params): string {
  if (filter.departments === '*') return 'true';
  return `EXISTS (
        SELECT 1 FROM encounter e2
          LEFT JOIN bed b2 ON b2.encounter_id = e2.id AND b2.status = 'occupied'
          LEFT JOIN room r2 ON r2.id = b2.room_id
          JOIN department d2 ON d2.id = coalesce(r2.department_id, e2.department_id)
         WHERE e2.patient_id = p.id AND e2.status IN ('planned', 'in_progress')
           AND d2.code = ANY(${params.add(filter.departments)}::text[]))`;
}

/**
 * One patient by id. A patient out of view is answered exactly like one that does not exist:
 * NOT_FOUND, so the answer reveals nothing about restricted patients.
 */
export async function getPatient(
  db: Queryable,
  access: PatientAccess,
  patientId: string,
): Promise<PatientRead> {
  const params = new Params();
  const id = params.add(patientId);
  const consent = consentVisibilitySql('p.id', access.filter, params);
  const { rows } = await db.query<PatientView & { touchedPatientId: string }>(
    `SELECT ${identityColumns(access.mask)},
         ${placeColumns},
         ${consent.breakGlass} AS "breakGlass",
         p.id::text AS "touchedPatientId"
       FROM patient p
       LEFT JOIN patient_identity i ON i.patient_id = p.id
       ${currentPlace}
       ${consent.join}
      WHERE p.id = (SELECT coalesce(m.merged_into_id, m.id) FROM patient m WHERE m.id = ${id}::uuid)
        AND ${patientScopeSql(access.filter, params)}
        AND ${consent.visible}`,
    params.values,
  );
  if (!rows[0]) throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'No such patient.');
  return toRead(rows[0]);
}

export interface PatientSearch {
  /** Any identifier of the patient (every MRN, national ids), old ones merged away included. */
  mrn?: string | undefined;
  /** The assigning authority the identifier must come from. */
  authority?: string | undefined;
  /** Words each matching the start of the given or the family name, in any case. */
  name?: string | undefined;
  /** YYYY-MM-DD. */
  birthDate?: string | undefined;
  limit: number;
}

/**
 * Patients whose identity matches every criterion given, among those the filter shows: the
 * total counts only those, so a restricted patient changes no figure an unauthorised caller
 * sees. Criteria on a field the mask hides are refused (a total would reveal it).
 */
export async function searchPatients(
  db: Queryable,
  access: PatientAccess,
  search: PatientSearch,
): Promise<{ total: number; items: PatientRead[] }> {
  const criteria: [IdentityField, string | undefined][] = [
    ['mrn', search.mrn],
    ['mrn', search.authority],
    ['name', search.name],
    ['birthDate', search.birthDate],
  ];
  for (const [field, value] of criteria) {
    if (value !== undefined && !shows(access.mask, field)) {
      throw new MedaxisError(ErrorCode.forbidden, 'masked_search_field', 'Not allowed.');
    }
  }

  const params = new Params();
  const conditions: string[] = [];
  if (search.mrn !== undefined) {
    // Whichever identifier it is, and whether a merge retired it: it finds the survivor.
    const value = params.add(search.mrn);
    const system = params.add(search.authority ?? null);
    conditions.push(`p.id IN (
        SELECT coalesce(q.merged_into_id, q.id) FROM patient_identifier x
          JOIN patient q ON q.id = x.patient_id
         WHERE x.value = ${value} AND (${system}::text IS NULL OR x.system = ${system})
        UNION
        SELECT a.patient_id FROM hl7_patient_alias a
         WHERE a.mrn = ${value} AND (${system}::text IS NULL OR a.authority = ${system}))`);
  }
  if (search.birthDate !== undefined) {
    conditions.push(`i.birth_date = ${params.add(search.birthDate)}::date`);
  }
  for (const word of (search.name ?? '').split(/\s+/).filter(Boolean)) {
    const prefix = params.add(`${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    conditions.push(
      `(lower(i.family_name) LIKE lower(${prefix}) OR lower(i.given_name) LIKE lower(${prefix}))`,
    );
  }
  if (conditions.length === 0) {
    throw new MedaxisError(ErrorCode.validation, 'empty_search', 'Give at least one criterion.');
  }

  const consent = consentVisibilitySql('p.id', access.filter, params);
  const { rows } = await db.query<PatientView & { touchedPatientId: string; total: number }>(
    `SELECT ${identityColumns(access.mask)},
         ${placeColumns},
         ${consent.breakGlass} AS "breakGlass",
         p.id::text AS "touchedPatientId",
         count(*) OVER ()::int AS total
       FROM patient_identity i
       JOIN patient p ON p.id = i.patient_id
       ${currentPlace}
       ${consent.join}
      WHERE ${conditions.join(' AND ')}
        AND p.merged_into_id IS NULL
        AND ${patientScopeSql(access.filter, params)}
        AND ${consent.visible}
      ORDER BY i.family_name, i.given_name, p.id
      LIMIT ${params.add(search.limit)}`,
    params.values,
  );
  return {
    total: rows[0]?.total ?? 0,
    items: rows.map(({ total: _total, ...row }) => toRead(row)),
  };
}

/**
 * The ids among `patientIds` that exist and belong to the filter's departments, consent
 * aside: the patients a consent decision or a break-glass override may concern. It reads no
 * identity and answers nothing about consent, so it reveals no restriction.
 */
export async function patientsInScope(
  db: Queryable,
  filter: RowFilter,
  patientIds: readonly string[],
): Promise<Set<string>> {
  const params = new Params();
  const ids = params.add(patientIds);
  const { rows } = await db.query<{ id: string }>(
    `SELECT p.id FROM patient p
      WHERE p.id = ANY(${ids}::uuid[]) AND ${patientScopeSql(filter, params)}`,
    params.values,
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Why a patient a read could not show is out of view, for the audit trail only (the caller
 * answers NOT_FOUND either way): `department_not_in_scope`, `consent_restricted`, or null when
 * no such patient exists.
 */
export async function whyOutOfView(
  db: Queryable,
  filter: RowFilter,
  patientId: string,
): Promise<'department_not_in_scope' | 'consent_restricted' | null> {
  const params = new Params();
  const id = params.add(patientId);
  const { rows } = await db.query<{ inScope: boolean }>(
    `SELECT ${patientScopeSql(filter, params)} AS "inScope"
       FROM patient p WHERE p.id = ${id}::uuid`,
    params.values,
  );
  if (!rows[0]) return null;
  return rows[0].inScope ? 'consent_restricted' : 'department_not_in_scope';
}
