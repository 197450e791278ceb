import type { ContactPoint, PostalAddress } from './patient-records.ts';
import type { Queryable } from './pool.ts';

/*
 * Organizations (the hospital, clinics, practices) and practitioners (attending clinicians):
 * the directory encounters point to. No patient data: operational reads may join it.
 */

export interface DirectoryIdentifier {
  system?: string | undefined;
  value: string;
}

export interface OrganizationInput {
  id: string;
  name: string;
  type: string | null;
  active: boolean;
  identifiers: readonly DirectoryIdentifier[];
  telecom: readonly ContactPoint[];
  addresses: readonly PostalAddress[];
  partOfId: string | null;
}

export type OrganizationRow = OrganizationInput;

/** Creates or replaces an organization under its id (a source's id is kept). */
export async function upsertOrganization(db: Queryable, org: OrganizationInput): Promise<void> {
  await db.query(
    `INSERT INTO organization (id, name, type, active, identifiers, telecom, address, part_of_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, type = excluded.type, active = excluded.active,
           identifiers = excluded.identifiers, telecom = excluded.telecom,
           address = excluded.address, part_of_id = excluded.part_of_id`,
    [
      org.id,
      org.name,
      org.type,
      org.active,
      JSON.stringify(org.identifiers),
      nullableJson(org.telecom),
      nullableJson(org.addresses),
      org.partOfId,
    ],
  );
}

/** The organization with this id, or carrying this identifier. */
export async function findOrganization(
  db: Queryable,
  ref: { id?: string | undefined; identifier?: DirectoryIdentifier | undefined },
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM organization
      WHERE id::text = $1
         OR ($2::jsonb IS NOT NULL AND identifiers @> $2::jsonb)
      ORDER BY id::text = $1 DESC LIMIT 1`,
    [ref.id ?? null, ref.identifier ? JSON.stringify([ref.identifier]) : null],
  );
  return rows[0]?.id;
}

export async function listOrganizations(
  db: Queryable,
  page: { afterId: string | null; limit: number },
): Promise<OrganizationRow[]> {
  const { rows } = await db.query<OrganizationRow>(
    `SELECT id, name, type, active, identifiers, coalesce(telecom, '[]') AS telecom,
            coalesce(address, '[]') AS addresses, part_of_id AS "partOfId"
       FROM organization WHERE $1::uuid IS NULL OR id > $1::uuid
      ORDER BY id LIMIT $2`,
    [page.afterId, page.limit],
  );
  return rows;
}

export interface PractitionerInput {
  id: string;
  familyName: string | null;
  givenName: string | null;
  prefix: string | null;
  /** HL7 administrative sex: M, F, O, U. */
  sex: string | null;
  active: boolean;
  identifiers: readonly DirectoryIdentifier[];
  telecom: readonly ContactPoint[];
  addresses: readonly PostalAddress[];
  specialty: string | null;
  organizationId: string | null;
}

export type PractitionerRow = PractitionerInput;

/**
 * Creates or replaces a practitioner under its id. A source that does not say which
 * organization or specialty (a FHIR Practitioner: PractitionerRole says it) leaves them as
 * they were.
 */
export async function upsertPractitioner(db: Queryable, p: PractitionerInput): Promise<void> {
  await db.query(
    `INSERT INTO practitioner (id, family_name, given_name, prefix, sex, active, identifiers,
                               telecom, address, specialty, organization_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (id) DO UPDATE
       SET family_name = excluded.family_name, given_name = excluded.given_name,
           prefix = excluded.prefix, sex = excluded.sex, active = excluded.active,
           identifiers = excluded.identifiers, telecom = excluded.telecom,
           address = excluded.address,
           specialty = coalesce(excluded.specialty, practitioner.specialty),
           organization_id = coalesce(excluded.organization_id, practitioner.organization_id)`,
    [
      p.id,
      p.familyName,
      p.givenName,
      p.prefix,
      p.sex,
      p.active,
      JSON.stringify(p.identifiers),
      nullableJson(p.telecom),
      nullableJson(p.addresses),
      p.specialty,
      p.organizationId,
    ],
  );
}

/** PractitionerRole: where a practitioner works and as what. */
export async function setPractitionerRole(
  db: Queryable,
  role: { practitionerId: string; organizationId: string | null; specialty: string | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE practitioner
        SET organization_id = coalesce($2, organization_id),
            specialty = coalesce($3, specialty)
      WHERE id = $1`,
    [role.practitionerId, role.organizationId, role.specialty],
  );
  return rowCount === 1;
}

/** The practitioner with this id, or carrying this identifier (an NPI). */
export async function findPractitioner(
  db: Queryable,
  ref: { id?: string | undefined; identifier?: DirectoryIdentifier | undefined },
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM practitioner
      WHERE id::text = $1
         OR ($2::jsonb IS NOT NULL AND identifiers @> $2::jsonb)
      ORDER BY id::text = $1 DESC LIMIT 1`,
    [ref.id ?? null, ref.identifier ? JSON.stringify([ref.identifier]) : null],
  );
  return rows[0]?.id;
}

export async function listPractitioners(
  db: Queryable,
  page: { afterId: string | null; limit: number },
): Promise<PractitionerRow[]> {
  const { rows } = await db.query<PractitionerRow>(
    `SELECT id, family_name AS "familyName", given_name AS "givenName", prefix, sex, active,
            identifiers, coalesce(telecom, '[]') AS telecom, coalesce(address, '[]') AS addresses,
            specialty, organization_id AS "organizationId"
       FROM practitioner WHERE $1::uuid IS NULL OR id > $1::uuid
      ORDER BY id LIMIT $2`,
    [page.afterId, page.limit],
  );
  return rows;
}

function nullableJson(value: readonly unknown[]): string | null {
  return value.length === 0 ? null : JSON.stringify(value);
}

/** The organization a department belongs to (FHIR Location.managingOrganization). */
export async function setDepartmentOrganization(
  db: Queryable,
  departmentId: number,
  organizationId: string | null,
): Promise<void> {
  await db.query(`UPDATE department SET organization_id = $2 WHERE id = $1`, [
    departmentId,
    organizationId,
  ]);
}

/**
 * A practitioner a feed names (HL7 PV1-7): the one carrying that identifier, else created
 * under `id`. The feed's name fills in, never blanks, what is known.
 */
export async function ensureFeedPractitioner(
  db: Queryable,
  input: {
    id: string;
    identifier: DirectoryIdentifier;
    familyName: string | null;
    givenName: string | null;
    prefix: string | null;
  },
): Promise<string> {
  // A feed's bytes may hold NUL, which PostgreSQL text and jsonb cannot.
  const clean = (value: string | null) => value?.replaceAll('\u0000', '\uFFFD') ?? null;
  const identifier = {
    system: clean(input.identifier.system ?? null) ?? undefined,
    value: clean(input.identifier.value)!,
  };
  const found = await findPractitioner(db, { identifier });
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO practitioner (id, family_name, given_name, prefix, identifiers)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE
       SET family_name = coalesce(excluded.family_name, practitioner.family_name),
           given_name = coalesce(excluded.given_name, practitioner.given_name),
           prefix = coalesce(excluded.prefix, practitioner.prefix)
     RETURNING id`,
    [
      found ?? input.id,
      clean(input.familyName),
      clean(input.givenName),
      clean(input.prefix),
      JSON.stringify([identifier]),
    ],
  );
  return rows[0]!.id;
}
