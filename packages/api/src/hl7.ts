import {
  countHl7Messages,
  hl7MessageStatuses,
  listHl7MessageIds,
  listHl7Messages,
  type Hl7MessageRow,
} from '@medaxis/db';
import { Hl7Processor, type ProcessedMessage } from '@medaxis/interop';
import { z } from 'zod';

import { procedure, router } from './trpc.ts';

const messageId = z.string().regex(/^\d{1,19}$/, 'expected a decimal message id');

const listInput = z
  .object({
    status: z.array(z.enum(hl7MessageStatuses)).max(hl7MessageStatuses.length).optional(),
    eventType: z
      .string()
      .regex(/^[A-Z0-9]{1,8}$/)
      .optional(),
    controlId: z.string().min(1).max(200).optional(),
    reason: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/)
      .optional(),
    beforeId: messageId.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();

/** What a list shows of a message: its envelope and outcome, never its raw bytes. */
export type Hl7MessageSummary = Omit<Hl7MessageRow, 'payloadHash'>;

function summary({ payloadHash: _hash, ...row }: Hl7MessageRow): Hl7MessageSummary {
  return row;
}

function outcomeOf(processed: ProcessedMessage) {
  const { outcome } = processed;
  return {
    id: processed.id,
    status: outcome.status,
    ackCode: outcome.ackCode,
    errorCode: outcome.errorCode ?? null,
    errorReason: outcome.errorReason ?? null,
    note: outcome.note ?? null,
  };
}

/**
 * The HL7 feed as operators see it (docs/hl7.md): every message received with its outcome, and
 * reprocessing of those that were not applied (the dead-letter queue). Raw messages carry
 * patient identity and are not served here: the list shows envelopes and outcomes only.
 */
export const hl7Router = router({
  messages: procedure
    .meta({ permission: 'interface.read' })
    .input(listInput.optional())
    .query(async ({ ctx, input }) => {
      const filter = listInput.parse(input ?? {});
      const [counts, rows] = await Promise.all([
        countHl7Messages(ctx.db),
        listHl7Messages(ctx.db, {
          statuses: filter.status,
          eventType: filter.eventType,
          controlId: filter.controlId,
          errorReason: filter.reason,
          beforeId: filter.beforeId,
          limit: filter.limit,
        }),
      ]);
      return { counts, messages: rows.map(summary) };
    }),

  /**
   * Processes stored messages again: one by id, or the oldest `limit` rejected ones. Applied
   * messages and duplicates are refused (CONFLICT); each attempt is counted on the message.
   */
  reprocess: procedure
    .meta({ permission: 'interface.manage' })
    .input(
      z.union([
        z.object({ id: messageId }).strict(),
        z
          .object({ failed: z.literal(true), limit: z.number().int().min(1).max(500).default(100) })
          .strict(),
      ]),
    )
    .mutation(async ({ ctx, input }) => {
      const processor = new Hl7Processor(ctx.db, { now: ctx.now, audit: ctx.audit });
      if ('id' in input) return [outcomeOf(await processor.reprocess(input.id))];
      const ids = await listHl7MessageIds(ctx.db, 'rejected', { limit: input.limit });
      const results = [];
      for (const id of ids) results.push(outcomeOf(await processor.reprocess(id)));
      return results;
    }),
});
