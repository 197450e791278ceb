import {
  countInpatients,
  exportInpatients,
  getPatient,
  getPatientRecord,
  listInpatients,
  searchPatients,
  type PatientAccess,
  type PatientRead,
  type PatientView,
  whyOutOfView,
} from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';
import type { IdentityField } from '@medaxis/policy';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';

import type { Access, Context } from './context.ts';
import { departmentCode } from './inputs.ts';
import { procedure, router } from './trpc.ts';

/*
 * The patient data API: one patient (its view, or its whole record with every identifier,
 * name, address and contact), search by any identifier, name and birth date, the patients in
 * beds per department (list, count, export). Every read goes through the request's access
 * decision: the repository functions take its row filter and field mask.
 */

/** Any 8-4-4-4-12 hex id (imported ids, e.g. Synthea's, carry no RFC 4122 version). */
export const patientId = z.guid();

/** The request's grant over patients, as the repository functions require it. */
export function patientAccess(access: Access): PatientAccess {
  return { filter: access.filter, mask: access.mask };
}

/** Reports what a read touched (for the audit row) and hands back the views. */
function reported(access: Access, reads: readonly PatientRead[]): PatientView[] {
  for (const read of reads) {
    access.touch([read.touchedPatientId], { breakGlass: read.view.breakGlass });
  }
  return reads.map((read) => read.view);
}

/**
 * One patient through the request's access. One out of view is NOT_FOUND, like one that does
 * not exist; the audit row still says it was a denial, and why.
 */
export async function readOnePatient(
  ctx: Context & { access: Access },
  id: string,
): Promise<PatientView> {
  try {
    const read = await getPatient(ctx.db, patientAccess(ctx.access), id);
    return reported(ctx.access, [read])[0]!;
  } catch (error) {
    if (isMedaxisError(error) && error.code === ErrorCode.notFound) {
      const why = await whyOutOfView(ctx.db, ctx.access.filter, id);
      if (why) ctx.access.deny([id], why);
    }
    throw error;
  }
}

/** A department asked for must be one the request may see; FORBIDDEN says no more. */
export function checkDepartment(access: Access, department: string | undefined) {
  if (department === undefined || access.departments === '*') return;
  if (!access.departments.includes(department)) {
    throw new MedaxisError(ErrorCode.forbidden, 'department_not_in_scope', 'Not allowed.');
  }
}

const search = z
  .object({
    /** Any identifier: an MRN, a national number; old ones merged away find the survivor. */
    mrn: z.string().trim().min(1).max(64).optional(),
    /** The assigning authority the identifier must be from (with `mrn` only). */
    authority: z.string().trim().min(1).max(200).optional(),
    name: z.string().trim().min(2).max(100).optional(),
    birthDate: z.iso.date().optional(),
    limit: z.number().int().min(1).max(100).default(25),
  })
  .strict()
  .refine((value) => value.mrn ?? value.name ?? value.birthDate, {
    message: 'give an MRN, a name or a birth date',
  })
  .refine((value) => value.authority === undefined || value.mrn !== undefined, {
    message: 'an authority narrows an MRN: give the MRN too',
  });

const inBed = { department: departmentCode.optional() };

/** Export columns: identity ones only where the mask shows the field. */
const exportColumns: { key: keyof PatientView; field?: IdentityField }[] = [
  { key: 'patientId', field: 'patientId' },
  { key: 'encounterId', field: 'patientId' },
  { key: 'mrn', field: 'mrn' },
  { key: 'authority', field: 'mrn' },
  { key: 'familyName', field: 'name' },
  { key: 'givenName', field: 'name' },
  { key: 'birthDate', field: 'birthDate' },
  { key: 'sex', field: 'sex' },
  { key: 'departmentCode' },
  { key: 'bedCode' },
  { key: 'inBedSince' },
  { key: 'encounterClass' },
];

export const patientsRouter = router({
  /** One patient; NOT_FOUND alike for one that does not exist and one out of view. */
  get: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object({ id: patientId }).strict())
    .query(({ ctx, input }) => readOnePatient(ctx, input.id)),

  /**
   * One patient's whole record: every identifier (MRNs of each authority, national numbers),
   * name, address, contact point and contact; beyond MRN and name only for a full mask.
   */
  record: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object({ id: patientId }).strict())
    .query(async ({ ctx, input }) => {
      const record = await getPatientRecord(ctx.db, patientAccess(ctx.access), input.id);
      const [view] = reported(ctx.access, [record.read]);
      const { read: _read, ...rest } = record;
      return { ...view!, ...rest };
    }),

  /** Patients matching every criterion given; `total` counts only those in view. */
  search: procedure
    .meta({ permission: 'patient.search', patientData: 'search' })
    .input(search)
    .query(async ({ ctx, input }) => {
      const found = await searchPatients(ctx.db, patientAccess(ctx.access), input);
      return { total: found.total, items: reported(ctx.access, found.items) };
    }),

  /** Patients in beds now, in bed order, a page at a time. */
  list: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(
      z
        .object({
          ...inBed,
          limit: z.number().int().min(1).max(500).default(100),
          offset: z.number().int().min(0).default(0),
        })
        .strict()
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      checkDepartment(ctx.access, input?.department);
      const reads = await listInpatients(ctx.db, patientAccess(ctx.access), {
        department: input?.department,
        limit: input?.limit ?? 100,
        offset: input?.offset ?? 0,
      });
      return { items: reported(ctx.access, reads) };
    }),

  /** How many patients lie in beds now, per department. */
  count: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object(inBed).strict().optional())
    .query(({ ctx, input }) => {
      checkDepartment(ctx.access, input?.department);
      return countInpatients(ctx.db, patientAccess(ctx.access), {
        department: input?.department,
      });
    }),

  /**
   * Every patient in a bed now, as CSV or NDJSON text. Columns the field mask hides are left
   * out, not blanked: a de-identified export has no identity columns at all.
   */
  export: procedure
    .meta({ permission: 'patient.export', patientData: 'export' })
    .input(
      z
        .object({ ...inBed, format: z.enum(['csv', 'ndjson']).default('ndjson') })
        .strict()
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      checkDepartment(ctx.access, input?.department);
      const reads = await exportInpatients(ctx.db, patientAccess(ctx.access), {
        department: input?.department,
      });
      const columns = exportColumns
        .filter((column) => !column.field || ctx.access.mask.fields.has(column.field))
        .map((column) => column.key);
      const rows = reported(ctx.access, reads).map((view) =>
        Object.fromEntries(columns.map((key) => [key, view[key]])),
      );
      const format = input?.format ?? 'ndjson';
      return {
        format,
        contentType: format === 'csv' ? 'text/csv' : 'application/x-ndjson',
        rows: rows.length,
        body:
          format === 'csv'
            ? stringify(rows, { header: true, columns })
            : rows.map((row) => `${JSON.stringify(row)}\n`).join(''),
      };
    }),
});
