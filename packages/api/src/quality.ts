import { countQualityIssues, listQualityIssues, qualityChecks } from '@medaxis/db';
import { z } from 'zod';

import { procedure, router } from './trpc.ts';

/*
 * The ADT data-quality page (docs/data_quality.md): how many of each kind of problem the
 * feeds and imports left, and the items behind each count. Operational data only (message
 * outcomes, events, beds, locations), never a patient or encounter id.
 */
export const qualityRouter = router({
  /** Counts per check, as of now. */
  summary: procedure
    .meta({ permission: 'quality.read' })
    .input(z.object({}).strict().optional())
    .query(async ({ ctx }) => ({
      at: ctx.now().toISOString(),
      counts: await countQualityIssues(ctx.db),
    })),

  /** The items one check finds, a page at a time. */
  items: procedure
    .meta({ permission: 'quality.read' })
    .input(
      z
        .object({
          check: z.enum(qualityChecks),
          limit: z.number().int().min(1).max(500).default(50),
          offset: z.number().int().min(0).max(1_000_000).default(0),
        })
        .strict(),
    )
    .query(async ({ ctx, input }) => ({
      check: input.check,
      items: await listQualityIssues(ctx.db, input.check, input),
    })),
});
