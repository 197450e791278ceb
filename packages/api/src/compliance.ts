import {
  actorActivityReport,
  breakGlassReport,
  chainStatusReport,
  denialReport,
  outOfDepartmentReport,
  patientAccessReport,
  type AccessFact,
  type BreakGlassReviewItem,
  type Page,
  type SealView,
} from '@medaxis/audit';
import type { Db } from '@medaxis/db';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';

import type { Access } from './context.ts';
import { instant } from './inputs.ts';
import { patientId } from './patients.ts';
import { procedure, router } from './trpc.ts';

/*
 * The compliance officer's views of the audit log (issue "Security, consent and audit", item
 * 10): who accessed a patient and why, everything one user did, break-glass review, denials,
 * access outside a user's departments, and the state of the chain. Each is a read of the audit
 * trail and is audited itself (resource `audit_log`, naming the patients it showed); each can
 * be exported as CSV through `compliance.export`, audited as an export.
 */

const pageSize = { limit: z.number().int().min(1).max(500).default(50) };
const window = {
  from: instant.optional(),
  to: instant.optional(),
  ...pageSize,
  offset: z.number().int().min(0).max(1_000_000).default(0),
};
const actor = z.string().trim().min(1).max(200);
const reviewStatus = z.enum(['pending', 'reviewed', 'all']).default('pending');

const reports = {
  patientAccess: z.object({ ...window, patientId }).strict(),
  userActivity: z.object({ ...window, actor }).strict(),
  breakGlass: z.object({ ...window, status: reviewStatus }).strict(),
  denials: z.object(window).strict(),
  outOfDepartment: z.object(window).strict(),
  chainStatus: z
    .object({ ...pageSize, offset: z.number().int().min(0).max(1_000_000).default(0) })
    .strict(),
};

type ReportName = keyof typeof reports;
type ReportInput<Name extends ReportName> = z.output<(typeof reports)[Name]>;

/** The reports by name: one function each, shared by the views and the export. */
const run = {
  patientAccess: (db: Db, input: ReportInput<'patientAccess'>) =>
    patientAccessReport(db, input.patientId, input),
  userActivity: (db: Db, input: ReportInput<'userActivity'>) =>
    actorActivityReport(db, input.actor, input),
  breakGlass: (db: Db, input: ReportInput<'breakGlass'>) => breakGlassReport(db, input),
  denials: (db: Db, input: ReportInput<'denials'>) => denialReport(db, input),
  outOfDepartment: (db: Db, input: ReportInput<'outOfDepartment'>) =>
    outOfDepartmentReport(db, input),
} as const;

/** Reports the patients a page showed, for the audit row of the compliance read itself. */
function shown<T extends { patientIds?: string[]; patientId?: string }>(
  access: Access,
  page: Page<T>,
): Page<T> {
  for (const item of page.items) {
    access.touch(item.patientIds ?? []);
    if (item.patientId) access.touch([item.patientId]);
  }
  return page;
}

const factColumns: string[] = [
  'firstAt',
  'lastAt',
  'count',
  'kind',
  'id',
  'actorKind',
  'actorId',
  'actorName',
  'roles',
  'deviceId',
  'purpose',
  'source',
  'operation',
  'action',
  'resourceType',
  'resourceId',
  'patientIds',
  'outcome',
  'reason',
  'requestId',
  'clientAddress',
] satisfies (keyof AccessFact)[];

const outOfDepartmentColumns: string[] = [
  ...factColumns.filter((column) => column !== 'patientIds'),
  'patientId',
  'patientDepartment',
  'userDepartments',
];

const breakGlassColumns = [
  'id',
  'userId',
  'userName',
  'patientId',
  'reason',
  'startedAt',
  'expiresAt',
  'flaggedAccesses',
  'reviewedBy',
  'reviewedByName',
  'reviewedAt',
  'reviewNote',
] satisfies (keyof BreakGlassReviewItem)[];

const sealColumns = [
  'seq',
  'kind',
  'firstId',
  'lastId',
  'rowCount',
  'firstAt',
  'lastAt',
  'root',
  'detail',
  'createdAt',
  'hash',
] satisfies (keyof SealView)[];

/**
 * A CSV cell: lists joined with spaces, and text a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@`, tab, CR at the start: a break-glass reason is typed by a person)
 * prefixed with an apostrophe (OWASP "CSV injection").
 */
export function csvCell(value: unknown): string {
  const text = csvText(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(csvText).join(' ');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value}`;
  return JSON.stringify(value);
}

function toCsv(items: readonly Row[], columns: readonly string[]): string {
  const rows = items.map((item) => columns.map((column) => csvCell(item[column])));
  return stringify(rows, { header: true, columns: [...columns] });
}

/** The most rows one export holds; a larger answer says so (`truncated`), narrow the range. */
export const exportMaxRows = 50_000;

const exportInput = z.discriminatedUnion('report', [
  reports.patientAccess.omit({ limit: true, offset: true }).extend({
    report: z.literal('patientAccess'),
  }),
  reports.userActivity.omit({ limit: true, offset: true }).extend({
    report: z.literal('userActivity'),
  }),
  reports.breakGlass.omit({ limit: true, offset: true }).extend({
    report: z.literal('breakGlass'),
  }),
  reports.denials.omit({ limit: true, offset: true }).extend({ report: z.literal('denials') }),
  reports.outOfDepartment.omit({ limit: true, offset: true }).extend({
    report: z.literal('outOfDepartment'),
  }),
  z.object({ report: z.literal('chainStatus') }).strict(),
]);

const audited = { patientData: 'read', resourceType: 'audit_log' } as const;

export const complianceRouter = router({
  /** Who accessed a patient's data, why (purpose), how and with what outcome. */
  patientAccess: procedure
    .meta({ permission: 'audit.read', ...audited })
    .input(reports.patientAccess)
    .query(async ({ ctx, input }) => {
      ctx.access.touch([input.patientId]);
      return shown(ctx.access, await run.patientAccess(ctx.db, input));
    }),

  /** Everything one user (username or id), device or `system` did. */
  userActivity: procedure
    .meta({ permission: 'audit.read', ...audited })
    .input(reports.userActivity)
    .query(async ({ ctx, input }) => shown(ctx.access, await run.userActivity(ctx.db, input))),

  /** Break-glass overrides with the flagged accesses under each; reviews close them. */
  breakGlass: procedure
    .meta({ permission: 'audit.review', ...audited })
    .input(reports.breakGlass)
    .query(async ({ ctx, input }) => shown(ctx.access, await run.breakGlass(ctx.db, input))),

  /** Refused access to patient data, consent restrictions first among the reasons. */
  denials: procedure
    .meta({ permission: 'audit.read', ...audited })
    .input(reports.denials)
    .query(async ({ ctx, input }) => shown(ctx.access, await run.denials(ctx.db, input))),

  /** Access to patients outside the departments a user is assigned to. */
  outOfDepartment: procedure
    .meta({ permission: 'audit.read', ...audited })
    .input(reports.outOfDepartment)
    .query(async ({ ctx, input }) => shown(ctx.access, await run.outOfDepartment(ctx.db, input))),

  /** Verify's verdict over the whole log, now, and the seal chain. */
  chainStatus: procedure
    .meta({ permission: 'audit.read', ...audited })
    .input(reports.chainStatus.optional())
    .query(({ ctx, input }) =>
      chainStatusReport(ctx.db, {
        limit: input?.limit ?? 50,
        offset: input?.offset ?? 0,
        now: ctx.now(),
      }),
    ),

  /** One report over a time range as CSV (at most `exportMaxRows` rows). */
  export: procedure
    .meta({ permission: 'audit.export', patientData: 'export', resourceType: 'audit_log' })
    .input(exportInput)
    .query(async ({ ctx, input }) => {
      const all = { limit: exportMaxRows + 1, offset: 0 };
      const table = await exportTable(ctx.db, ctx.access, input, all, ctx.now());
      const truncated = table.items.length > exportMaxRows;
      const items = table.items.slice(0, exportMaxRows);
      return {
        report: input.report,
        contentType: 'text/csv',
        filename: `medaxis-${input.report}-${ctx.now().toISOString().slice(0, 10)}.csv`,
        rows: items.length,
        truncated,
        body: toCsv(items, table.columns),
      };
    }),
});

type Row = Record<string, unknown>;

/** The rows and columns of one export, its patients reported for the export's audit row. */
async function exportTable(
  db: Db,
  access: Access,
  input: z.output<typeof exportInput>,
  all: { limit: number; offset: number },
  now: Date,
): Promise<{ items: Row[]; columns: string[] }> {
  switch (input.report) {
    case 'chainStatus': {
      const status = await chainStatusReport(db, { ...all, now });
      return { items: status.seals.items as unknown as Row[], columns: sealColumns };
    }
    case 'outOfDepartment': {
      const page = shown(access, await run.outOfDepartment(db, { ...input, ...all }));
      return { items: page.items as unknown as Row[], columns: outOfDepartmentColumns };
    }
    case 'breakGlass': {
      const page = shown(access, await run.breakGlass(db, { ...input, ...all }));
      return { items: page.items as unknown as Row[], columns: breakGlassColumns };
    }
    case 'patientAccess':
    case 'userActivity':
    case 'denials': {
      const page = shown(access, await factsFor(db, input, all));
      return { items: page.items as unknown as Row[], columns: factColumns };
    }
  }
}

function factsFor(
  db: Db,
  input: z.output<typeof exportInput> & { report: 'patientAccess' | 'userActivity' | 'denials' },
  all: { limit: number; offset: number },
): Promise<Page<AccessFact>> {
  switch (input.report) {
    case 'patientAccess':
      return run.patientAccess(db, { ...input, ...all });
    case 'userActivity':
      return run.userActivity(db, { ...input, ...all });
    case 'denials':
      return run.denials(db, { ...input, ...all });
  }
}
