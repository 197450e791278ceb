import {
  listBreakGlass,
  openBreakGlass,
  patientsInScope,
  reviewBreakGlass,
  type BreakGlassRow,
} from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import { breakGlassPurpose, planBreakGlass } from '@medaxis/policy';
import { z } from 'zod';

import { patientId } from './patients.ts';
import { procedure, router } from './trpc.ts';

const breakGlassId = z.string().regex(/^\d{1,19}$/, 'expected a decimal id');

function toView(row: BreakGlassRow) {
  return {
    id: row.id,
    userId: row.userId,
    patientId: row.patientId,
    reason: row.reason,
    startedAt: row.startedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    reviewedBy: row.reviewedBy,
    reviewedAt: row.reviewedAt?.toISOString() ?? null,
    reviewNote: row.reviewNote,
  };
}

export const breakGlassRouter = router({
  /**
   * A clinician overrides one patient's consent restrictions for their care, with a typed
   * reason, for a limited time. Until it expires the patient is in the clinician's view (in
   * their departments), every such read is flagged, and the override waits in the compliance
   * officers' review queue.
   */
  open: procedure
    .meta({ permission: 'breakglass.use', patientData: 'read' })
    .input(
      z
        .object({
          patientId,
          reason: z.string().max(1000),
          minutes: z.number().int().positive().optional(),
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      if (ctx.access.purpose !== breakGlassPurpose) {
        throw new MedaxisError(ErrorCode.forbidden, 'purpose_not_allowed', 'Not allowed.');
      }
      const now = ctx.now();
      const plan = planBreakGlass(ctx.policies.breakGlass, input, now);

      const inScope = await patientsInScope(ctx.db, ctx.access.filter, [input.patientId]);
      if (!inScope.has(input.patientId)) {
        throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'No such patient.');
      }

      const row = await openBreakGlass(ctx.db, {
        userId: ctx.access.actor.id,
        patientId: input.patientId,
        ...plan,
      });
      ctx.access.touch([input.patientId], { breakGlass: true });
      return { id: row.id, startedAt: toView(row).startedAt, expiresAt: toView(row).expiresAt };
    }),

  /** Overrides waiting for review, oldest first; `reviewed: true` lists the reviewed ones. */
  reviewQueue: procedure
    .meta({ permission: 'audit.review', patientData: 'read' })
    .input(
      z
        .object({
          reviewed: z.boolean().default(false),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .strict()
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const rows = await listBreakGlass(ctx.db, {
        reviewed: input?.reviewed ?? false,
        limit: input?.limit ?? 100,
      });
      ctx.access.touch(rows.map((row) => row.patientId));
      return { items: rows.map(toView) };
    }),

  /** Closes an override's review with a note; once, and never by the one who broke the glass. */
  review: procedure
    .meta({ permission: 'audit.review', patientData: 'write' })
    .input(z.object({ id: breakGlassId, note: z.string().trim().min(1).max(2000) }).strict())
    .mutation(async ({ ctx, input }) => {
      const row = await reviewBreakGlass(ctx.db, {
        id: input.id,
        reviewedBy: ctx.access.actor.id,
        note: input.note,
        at: ctx.now(),
      });
      ctx.access.touch([row.patientId]);
      return toView(row);
    }),
});
