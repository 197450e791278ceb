import { bind, prepared, queryPrepared, type BoundStatement, type Queryable } from './pool.ts';

/** The kinds of department the database's `department_kind` enum accepts. */
export const departmentKinds = [
  'emergency',
  'ward',
  'icu',
  'maternity',
  'surgery',
  'pediatrics',
  'clinic',
  'other',
] as const;
export type DepartmentKind = (typeof departmentKinds)[number];

/** Whether `kind` is one the database accepts. */
export function isDepartmentKind(kind: string): kind is DepartmentKind {
  return (departmentKinds as readonly string[]).includes(kind);
}

/** The longest department code: the locations CSV, the API's inputs and importers agree. */
export const departmentCodeMaxLength = 32;
/** A department code: 1 to 32 letters, digits, - and _. */
export const departmentCodePattern = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The order departments are shown in (board cards, department lists, the device page's Board
 * choice), as an ORDER BY list over the department table aliased `alias`: the hospital's
 * configured departments first, in their configured sort_order; then those an import, feed
 * or replay created on first use (needs_review), by code alone, since their creators give
 * them no meaningful place (HL7 and FHIR give 1000, MIMIC and replay 0). Codes compare
 * byte by byte, so the order is the same whatever the database's locale.
 */
export function departmentOrderBy(alias: string): string {
  const d = alias;
  const configured = `CASE WHEN ${d}.needs_review THEN 0 ELSE ${d}.sort_order END`;
  return `${d}.needs_review, ${configured}, ${d}.code COLLATE "C"`;
}

export interface DepartmentInput {
  code: string;
  name: string;
  kind: DepartmentKind;
  sortOrder?: number;
  needsReview?: boolean;
}

export interface DepartmentRow {
  id: number;
  code: string;
  name: string;
  kind: string;
  sortOrder: number;
  needsReview: boolean;
}

export async function ensureSite(
  db: Queryable,
  site: { code: string; name: string; timeZone: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO site (code, name, time_zone) VALUES ($1, $2, $3)
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone
     RETURNING id`,
    [site.code, site.name, site.timeZone],
  );
  return rows[0]!.id;
}

/** The one site of this installation (multi-site is a later concern). */
export async function getSite(db: Queryable) {
  const { rows } = await db.query<{ id: number; code: string; name: string; timeZone: string }>(
    `SELECT id, code, name, time_zone AS "timeZone" FROM site ORDER BY id LIMIT 1`,
  );
  return rows[0];
}

/** Creates the department if its code is new; an existing one is returned unchanged. */
export async function ensureDepartment(
  db: Queryable,
  siteId: number,
  department: DepartmentInput,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `WITH inserted AS (
       INSERT INTO department (site_id, code, name, kind, sort_order, needs_review)
       VALUES ($1, $2, $3, $4::department_kind, $5, $6)
       ON CONFLICT (code) DO NOTHING
       RETURNING id)
     SELECT id FROM inserted UNION ALL SELECT id FROM department WHERE code = $2 LIMIT 1`,
    [
      siteId,
      department.code,
      department.name,
      department.kind,
      department.sortOrder ?? 0,
      department.needsReview ?? false,
    ],
  );
  return rows[0]!.id;
}

export async function ensureRoom(db: Queryable, departmentId: number, code: string) {
  const { rows } = await db.query<{ id: number }>(
    `WITH inserted AS (
       INSERT INTO room (department_id, code) VALUES ($1, $2)
       ON CONFLICT (department_id, code) DO NOTHING
       RETURNING id)
     SELECT id FROM inserted
     UNION ALL SELECT id FROM room WHERE department_id = $1 AND code = $2 LIMIT 1`,
    [departmentId, code],
  );
  return rows[0]!.id;
}

/**
 * Creates a bed (free, with its first status interval) if its code is new. `since` dates that
 * first interval: history imports pass the earliest instant they will use.
 */
export async function ensureBed(
  db: Queryable,
  bed: {
    roomId: number;
    code: string;
    type?: string;
    since?: Date;
    needsReview?: boolean;
  },
): Promise<number> {
  const since = bed.since ?? new Date();
  const { rows } = await db.query<{ id: number; inserted: boolean }>(
    `WITH inserted AS (
       INSERT INTO bed (room_id, code, type, status, status_since, needs_review)
       VALUES ($1, $2, $3, 'free', $4, $5)
       ON CONFLICT (code) DO NOTHING
       RETURNING id),
     history AS (
       INSERT INTO bed_status_history (bed_id, status, start_at)
       SELECT id, 'free', $4 FROM inserted)
     SELECT id, true AS inserted FROM inserted
     UNION ALL SELECT id, false FROM bed WHERE code = $2 LIMIT 1`,
    [bed.roomId, bed.code, bed.type ?? 'standard', since, bed.needsReview ?? false],
  );
  return rows[0]!.id;
}

export interface PatientInput {
  mrn: string;
  authority: string;
  familyName?: string | null;
  givenName?: string | null;
  birthDate?: string | null;
  sex?: string | null;
}

/** Finds the patient by (authority, MRN) or creates it with its identity row. */
export async function ensurePatient(db: Queryable, patient: PatientInput): Promise<string> {
  const existing = await db.query<{ id: string }>(
    `SELECT patient_id AS id FROM patient_identity WHERE authority = $1 AND mrn = $2`,
    [patient.authority, patient.mrn],
  );
  if (existing.rows[0]) return existing.rows[0].id;
  // Undefined: lost a race with a concurrent insert of the same MRN; theirs is the patient.
  return (await insertPatient(db, patient)) ?? ensurePatient(db, patient);
}

/**
 * Creates the patient with its identity row, for a caller that just found no patient under
 * (authority, MRN): ensurePatient without its first look. Undefined if one was created
 * meanwhile (then ensurePatient finds it).
 */
export async function insertPatient(
  db: Queryable,
  patient: PatientInput,
): Promise<string | undefined> {
  const { rows } = await queryPrepared<{ id: string }>(db, insertPatientStatement, [
    patient.mrn,
    patient.authority,
    patient.familyName ?? null,
    patient.givenName ?? null,
    patient.birthDate ?? null,
    patient.sex ?? null,
  ]);
  return rows[0]?.id;
}

const insertPatientStatement = prepared(
  'catalog_insert_patient',
  `WITH p AS (INSERT INTO patient DEFAULT VALUES RETURNING id),
   created AS (
     INSERT INTO patient_identity
       (patient_id, mrn, authority, family_name, given_name, birth_date, sex)
     SELECT id, $1, $2, $3, $4, $5::date, $6 FROM p
     ON CONFLICT (authority, mrn) DO NOTHING
     RETURNING patient_id AS id),
   identifier AS (
     INSERT INTO patient_identifier (patient_id, system, value, type)
     SELECT id, $2, $1, 'MR' FROM created
     ON CONFLICT (system, value) DO NOTHING)
   SELECT id FROM created`,
);

/** A patient known only by an opaque id (walk-in, demo): no identity row. */
export async function createAnonymousPatient(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO patient DEFAULT VALUES RETURNING id`,
  );
  return rows[0]!.id;
}

export interface EncounterInput {
  patientId: string;
  class: 'inpatient' | 'emergency' | 'outpatient' | 'observation';
  departmentId?: number | null;
  admitDecisionAt?: Date | null;
  expectedDischargeAt?: Date | null;
  sourceSystem?: string | null;
  sourceRef?: string | null;
}

/**
 * Creates a planned encounter, or returns the one already known under (sourceSystem,
 * sourceRef) so that re-running an import or a feed never duplicates visits.
 */
export async function ensureEncounter(db: Queryable, encounter: EncounterInput): Promise<string> {
  const { rows } = await db.query<{ id: string }>(ensureEncounterSql, [
    ...ensureEncounterParams(encounter),
  ]);
  return rows[0]!.id;
}

/** ensureEncounter as a statement, to run before other statements in one round trip. */
export function ensureEncounterStatement(encounter: EncounterInput): BoundStatement {
  return bind(ensureEncounterPrepared, ensureEncounterParams(encounter));
}

const ensureEncounterSql = `
  WITH inserted AS (
    INSERT INTO encounter (patient_id, class, status, department_id, admit_decision_at,
                           expected_discharge_at, source_system, source_ref)
    VALUES ($1, $2::encounter_class, 'planned', $3, $4, $5, $6, $7)
    ON CONFLICT (source_system, source_ref) DO NOTHING
    RETURNING id)
  SELECT id FROM inserted
  UNION ALL SELECT id FROM encounter
    WHERE source_system = $6 AND source_ref = $7 AND $7 IS NOT NULL
  LIMIT 1`;

const ensureEncounterPrepared = prepared('catalog_ensure_encounter', ensureEncounterSql);

function ensureEncounterParams(encounter: EncounterInput) {
  return [
    encounter.patientId,
    encounter.class,
    encounter.departmentId ?? null,
    encounter.admitDecisionAt ?? null,
    encounter.expectedDischargeAt ?? null,
    encounter.sourceSystem ?? null,
    encounter.sourceRef ?? null,
  ] as const;
}

export async function listDepartments(db: Queryable): Promise<DepartmentRow[]> {
  const { rows } = await db.query<DepartmentRow>(
    `SELECT id, code, name, kind::text AS kind, sort_order AS "sortOrder",
            needs_review AS "needsReview"
       FROM department d ORDER BY ${departmentOrderBy('d')}`,
  );
  return rows;
}

export async function listRooms(db: Queryable, departmentCode?: string) {
  const { rows } = await db.query<{ id: number; code: string; departmentCode: string }>(
    `SELECT r.id, r.code, d.code AS "departmentCode"
       FROM room r JOIN department d ON d.id = r.department_id
      WHERE $1::text IS NULL OR d.code = $1
      ORDER BY ${departmentOrderBy('d')}, r.code`,
    [departmentCode ?? null],
  );
  return rows;
}
