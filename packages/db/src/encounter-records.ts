import { ErrorCode, MedaxisError } from '@medaxis/domain';

import { consentVisibilitySql } from './consent.ts';
import { getPatient, type PatientAccess, type PatientRead } from './patients.ts';
import type { Queryable, Tx } from './pool.ts';
import { Params } from './sql-params.ts';

/*
 * Encounters as the patient data service keeps them for imports and FHIR: class, status,
 * department, attending clinician, organization, and the bed stays the domain commands wrote.
 * Bed stays are never written here: only executeCommand writes them.
 */

export type EncounterClassName = 'inpatient' | 'emergency' | 'outpatient' | 'observation';
export type EncounterStatusName = 'planned' | 'in_progress' | 'finished' | 'cancelled';

export interface EncounterRecordInput {
  /** The id to create it under (an import keeping the source's id). */
  id: string;
  patientId: string;
  class: EncounterClassName;
  sourceSystem: string | null;
  sourceRef: string | null;
}

/**
 * Finds the encounter by id or by (sourceSystem, sourceRef), else creates it (planned, like
 * every new visit: the commands that put it in a bed move it on). A visit that exists for
 * another patient is refused: applying it would move the wrong person.
 */
export async function ensureEncounterRecord(
  tx: Tx,
  input: EncounterRecordInput,
): Promise<{ encounterId: string; created: boolean }> {
  const { rows } = await tx.query<{ id: string; patientId: string }>(
    `SELECT id, patient_id AS "patientId" FROM encounter
      WHERE id = $1 OR (source_system = $2 AND source_ref = $3)
      ORDER BY id = $1 DESC LIMIT 1`,
    [input.id, input.sourceSystem, input.sourceRef],
  );
  const found = rows[0];
  if (found) {
    if (found.patientId !== input.patientId) {
      throw new MedaxisError(
        ErrorCode.conflict,
        'visit_of_another_patient',
        'This encounter already exists for another patient.',
      );
    }
    return { encounterId: found.id, created: false };
  }
  await tx.query(
    `INSERT INTO encounter (id, patient_id, class, status, source_system, source_ref)
     VALUES ($1, $2, $3::encounter_class, 'planned', $4, $5)`,
    [input.id, input.patientId, input.class, input.sourceSystem, input.sourceRef],
  );
  return { encounterId: input.id, created: true };
}

export interface EncounterDetails {
  class: EncounterClassName;
  /** Written only for a visit no bed command governs (one without bed stays). */
  status?: EncounterStatusName | undefined;
  admittedAt: Date | null;
  dischargedAt: Date | null;
  departmentId: number | null;
  organizationId: string | null;
  attendingId: string | null;
}

/** The facts of a visit that no bed command decides, as its source states them. */
export async function setEncounterDetails(
  db: Queryable,
  encounterId: string,
  details: EncounterDetails,
): Promise<void> {
  await db.query(
    `UPDATE encounter
        SET class = $2::encounter_class,
            status = coalesce($3::encounter_status, status),
            admitted_at = coalesce($4, admitted_at),
            discharged_at = CASE WHEN $3::encounter_status IS NULL THEN discharged_at
                                 ELSE $5 END,
            department_id = coalesce($6, department_id),
            organization_id = $7, attending_id = $8
      WHERE id = $1`,
    [
      encounterId,
      details.class,
      details.status ?? null,
      details.admittedAt,
      details.dischargedAt,
      details.departmentId,
      details.organizationId,
      details.attendingId,
    ],
  );
}

export interface StayRecord {
  bedCode: string;
  startAt: string;
  endAt: string | null;
}

export interface EncounterRecord {
  id: string;
  patientId: string;
  class: EncounterClassName;
  status: EncounterStatusName;
  admittedAt: string | null;
  dischargedAt: string | null;
  departmentCode: string | null;
  organizationId: string | null;
  attendingId: string | null;
  sourceSystem: string | null;
  sourceRef: string | null;
  /** Live (not cancelled) stays in time order. */
  stays: StayRecord[];
}

const encounterColumns = `e.id::text AS id, e.patient_id::text AS "patientId",
       e.class::text AS class, e.status::text AS status,
       to_json(e.admitted_at)#>>'{}' AS "admittedAt",
       to_json(e.discharged_at)#>>'{}' AS "dischargedAt",
       d.code AS "departmentCode", e.organization_id::text AS "organizationId",
       e.attending_id::text AS "attendingId", e.source_system AS "sourceSystem",
       e.source_ref AS "sourceRef",
       coalesce((SELECT json_agg(json_build_object(
                   'bedCode', b.code, 'startAt', to_json(s.start_at)#>>'{}',
                   'endAt', to_json(s.end_at)#>>'{}') ORDER BY s.start_at, s.id)
                   FROM bed_stay s JOIN bed b ON b.id = s.bed_id
                  WHERE s.encounter_id = e.id AND NOT s.cancelled), '[]') AS stays`;

/** The visit's own department, else the department of the last bed it lay in. */
const departmentJoin = `LEFT JOIN department d ON d.id = coalesce(e.department_id, (
         SELECT r.department_id FROM bed_stay s JOIN bed b ON b.id = s.bed_id
           JOIN room r ON r.id = b.room_id
          WHERE s.encounter_id = e.id AND NOT s.cancelled
          ORDER BY s.start_at DESC, s.id DESC LIMIT 1))`;

/**
 * One encounter, through the access decision on its patient: NOT_FOUND alike for one that
 * does not exist and one whose patient is out of view.
 */
export async function getEncounterRecord(
  db: Queryable,
  access: PatientAccess,
  encounterId: string,
): Promise<{ encounter: EncounterRecord; patient: PatientRead }> {
  const { rows } = await db.query<EncounterRecord>(
    `SELECT ${encounterColumns}
       FROM encounter e ${departmentJoin}
      WHERE e.id = $1::uuid`,
    [encounterId],
  );
  const encounter = rows[0];
  if (!encounter) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_encounter', 'No such encounter.');
  }
  const patient = await getPatient(db, access, encounter.patientId).catch((error: unknown) => {
    if (error instanceof MedaxisError && error.code === ErrorCode.notFound) {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_encounter', 'No such encounter.');
    }
    throw error;
  });
  return { encounter, patient };
}

/** Every encounter of a patient the filter shows, in id order, a page at a time (exports). */
export async function exportEncounterRecords(
  db: Queryable,
  access: PatientAccess,
  page: { afterId: string | null; limit: number },
): Promise<EncounterRecord[]> {
  const params = new Params();
  const consent = consentVisibilitySql('e.patient_id', access.filter, params);
  const after = params.add(page.afterId);
  const { rows } = await db.query<EncounterRecord>(
    `SELECT ${encounterColumns}
       FROM encounter e ${departmentJoin}
       ${consent.join}
      WHERE ${consent.visible} AND (${after}::uuid IS NULL OR e.id > ${after}::uuid)
      ORDER BY e.id
      LIMIT ${params.add(page.limit)}`,
    params.values,
  );
  return rows;
}

export interface LocationRecord {
  kind: 'department' | 'room' | 'bed';
  departmentCode: string;
  departmentName: string;
  departmentKind: string;
  organizationId: string | null;
  roomCode: string | null;
  bedCode: string | null;
  bedType: string | null;
  status: string | null;
  statusReason: string | null;
  isolation: boolean;
}

const locationSelect = `
  SELECT 'department' AS kind, d.code AS "departmentCode", d.name AS "departmentName",
         d.kind::text AS "departmentKind", d.organization_id::text AS "organizationId",
         NULL AS "roomCode", NULL AS "bedCode", NULL AS "bedType", NULL AS status,
         NULL AS "statusReason", false AS isolation, d.sort_order AS o1, '' AS o2, '' AS o3
    FROM department d
  UNION ALL
  SELECT 'room', d.code, d.name, d.kind::text, d.organization_id::text, r.code, NULL, NULL,
         NULL, NULL, false, d.sort_order, r.code, ''
    FROM room r JOIN department d ON d.id = r.department_id
  UNION ALL
  SELECT 'bed', d.code, d.name, d.kind::text, d.organization_id::text, r.code, b.code, b.type,
         b.status::text, b.status_reason, b.isolation, d.sort_order, r.code, b.code
    FROM bed b JOIN room r ON r.id = b.room_id JOIN department d ON d.id = r.department_id`;

/** Departments, rooms and beds with each bed's current status: no patient data. */
export async function listLocations(db: Queryable): Promise<LocationRecord[]> {
  const { rows } = await db.query<LocationRecord>(
    `SELECT kind, "departmentCode", "departmentName", "departmentKind", "organizationId",
            "roomCode", "bedCode", "bedType", status, "statusReason", isolation
       FROM (${locationSelect}) l
      ORDER BY "departmentCode", o2, kind = 'room' DESC, o3`,
  );
  return rows;
}
