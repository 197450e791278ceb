import {
  countOpenImportRejections,
  importKinds,
  listOpenImportRejections,
  loadImportRejection,
  reprocessImportRejection,
  type ImportAuditSink,
  type ImportRejectionSummary,
} from '@medaxis/interop';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import { z } from 'zod';

import type { Access } from './context.ts';
import { procedure, router } from './trpc.ts';

/*
 * The rows imports rejected (import_rejection) as operators see them beside the HL7 dead
 * letters, and their reprocessing (docs/imports.md, "Rejected rows"). A kept row is what a file
 * said, patient identity included: lists show where and why only, and a row's contents are
 * served for locations rows alone (departments, rooms and beds: no patient in them).
 */

const rejectionId = z.string().regex(/^[1-9]\d{0,17}$/, 'expected a decimal rejection id');

const listInput = z
  .object({
    kind: z.enum(importKinds).optional(),
    runId: z.number().int().min(1).max(2_147_483_647).optional(),
    beforeId: rejectionId.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();

/** An edited row: a JSON object (a CSV row's cells, or a FHIR resource), 100 kB at most. */
const editedRow = z
  .record(z.string().max(200), z.unknown())
  .refine((row) => JSON.stringify(row).length <= 100_000, 'the row is larger than 100 kB');

/** Kinds whose rows name no patient: their contents may be shown to whoever lists them. */
const rowShownFor = new Set(['locations']);

export type { ImportRejectionSummary };

/**
 * The audit sink the importer writes through: it records nothing itself but tells the
 * enforcement point which patients and encounters the reprocessing wrote, so the call's one
 * audit row (by the person who asked, under their purpose) names them.
 */
function touchingSink(access: Access): ImportAuditSink {
  return {
    defer(event) {
      access.touch(event.patientIds ?? []);
      access.touchEncounters(event.encounterIds ?? []);
    },
    flush: () => Promise.resolve(),
  };
}

export const importsRouter = router({
  /** Open rejections, newest first, with counts by kind: no row contents. */
  rejections: procedure
    .meta({ permission: 'import.read' })
    .input(listInput.optional())
    .query(async ({ ctx, input }) => {
      const filter = listInput.parse(input ?? {});
      const [counts, rejections] = await Promise.all([
        countOpenImportRejections(ctx.db),
        listOpenImportRejections(ctx.db, filter),
      ]);
      return { counts, rejections };
    }),

  /**
   * One rejection, open or reprocessed, with how it ended. Its row is given for locations
   * rows only (`row: null, rowShown: false` otherwise): to edit a patient's row, an operator
   * reads it with `medaxis import rejection <id>` on the server, where that read is audited.
   */
  rejection: procedure
    .meta({ permission: 'import.read' })
    .input(z.object({ id: rejectionId }).strict())
    .query(async ({ ctx, input }) => {
      const found = await loadImportRejection(ctx.db, input.id);
      if (!found) {
        throw new MedaxisError(ErrorCode.notFound, 'unknown_rejection', 'No such rejection.');
      }
      const shown = rowShownFor.has(found.kind);
      return {
        ...found,
        row: shown ? found.row : null,
        appliedRow: shown ? found.appliedRow : null,
        rowShown: shown,
      };
    }),

  /**
   * Applies a kept row again through its importer, as stored or as the edited `row` (the
   * stored row is kept). Answers the outcome, applied or rejected again (then kept as a new
   * open rejection with its new reason); refuses what cannot be reprocessed: NOT_FOUND, an
   * already reprocessed rejection or a MIMIC row (CONFLICT), an edit that is no row of its
   * kind (BAD_REQUEST). Audited as a write of the patients the row touched.
   */
  reprocess: procedure
    .meta({ permission: 'import.manage', patientData: 'write' })
    .input(z.object({ id: rejectionId, row: editedRow.optional() }).strict())
    .mutation(({ ctx, input }) =>
      reprocessImportRejection(ctx.db, input.id, {
        by: `${ctx.access.actor.kind}:${ctx.access.actor.id}`,
        row: input.row,
        audit: touchingSink(ctx.access),
        now: ctx.now,
      }),
    ),
});
