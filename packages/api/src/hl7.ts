import {
  countHl7DeadLetters,
  countHl7Messages,
  findPatientByIdentifier,
  getPatient,
  hl7MessageStatuses,
  listHl7MessageIds,
  listHl7Messages,
  loadHl7Message,
  type Hl7MessageFilter,
  type Hl7MessageRow,
} from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';
import {
  decodeHl7Bytes,
  hl7PatientIdentifiers,
  Hl7Processor,
  maskHl7Identity,
  type Hl7IdentityKind,
  type ProcessedMessage,
} from '@medaxis/interop';
import { z } from 'zod';

import type { Access, Context } from './context.ts';
import { patientAccess } from './patients.ts';
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
    /**
     * The dead-letter view's tabs: rejected (refused for what the message says or the
     * hospital's state), errored (MedAxis failed on it), unsupported, all. Narrows `status`.
     */
    outcome: z.enum(['rejected', 'errored', 'unsupported', 'all']).optional(),
    beforeId: messageId.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();

type ListInput = z.infer<typeof listInput>;

function outcomeFilter(outcome: ListInput['outcome']): Partial<Hl7MessageFilter> {
  switch (outcome) {
    case undefined:
    case 'all':
      return {};
    case 'rejected':
      return { statuses: ['rejected'], internalError: false };
    case 'errored':
      return { statuses: ['rejected'], internalError: true };
    case 'unsupported':
      return { statuses: ['unsupported'] };
  }
}

/** What a list shows of a message: its envelope and outcome, never its raw bytes. */
export type Hl7MessageSummary = Omit<Hl7MessageRow, 'payloadHash'>;

function summary({ payloadHash: _hash, ...row }: Hl7MessageRow): Hl7MessageSummary {
  return row;
}

/** Which identity of a message's patients the request may see: all of it, or none. */
async function identityShown(
  ctx: Pick<Context, 'db'> & { access: Access },
  text: string,
): Promise<ReadonlySet<Hl7IdentityKind>> {
  const { access } = ctx;
  const shown = new Set<Hl7IdentityKind>();
  if (access.mask.fields.has('mrn')) shown.add('mrn');
  if (access.mask.fields.has('name')) shown.add('name');
  if (access.mask.fields.has('birthDate')) shown.add('birthDate');
  if (access.mask.fields.has('sex')) shown.add('sex');
  if (access.mask.level === 'full') shown.add('other');
  if (shown.size === 0) return shown;

  // A patient MedAxis knows is shown only where the access decision shows them (department
  // scope, consent, break-glass), as on every other patient read; one it never stored has no
  // consent on record to honour.
  const touched: string[] = [];
  for (const { authority, mrn } of hl7PatientIdentifiers(text)) {
    const patientId = await findPatientByIdentifier(ctx.db, authority, mrn);
    if (!patientId) continue;
    try {
      const read = await getPatient(ctx.db, patientAccess(access), patientId);
      touched.push(read.touchedPatientId);
    } catch (error) {
      if (isMedaxisError(error) && error.code === ErrorCode.notFound) return new Set();
      throw error;
    }
  }
  access.touch(touched);
  return shown;
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
      const [counts, outcomes, rows] = await Promise.all([
        countHl7Messages(ctx.db),
        countHl7DeadLetters(ctx.db),
        listHl7Messages(ctx.db, {
          statuses: filter.status,
          eventType: filter.eventType,
          controlId: filter.controlId,
          errorReason: filter.reason,
          beforeId: filter.beforeId,
          limit: filter.limit,
          ...outcomeFilter(filter.outcome),
        }),
      ]);
      return { counts, outcomes, messages: rows.map(summary) };
    }),

  /**
   * One message with its raw text, for the dead-letter view. Patient identity in it is shown
   * only as the request's field mask and the patients' consent allow (`***` otherwise): an
   * administrator sees the message's structure and outcome, never who it is about.
   */
  message: procedure
    .meta({ permission: 'interface.read', patientData: 'read' })
    .input(z.object({ id: messageId }).strict())
    .query(async ({ ctx, input }) => {
      const row = await loadHl7Message(ctx.db, input.id);
      if (!row) throw new MedaxisError(ErrorCode.notFound, 'unknown_message', 'No such message.');
      const { raw, ...rest } = row;
      const decoded = decodeHl7Bytes(raw);
      const shown = await identityShown(ctx, decoded.text);
      return {
        message: summary(rest),
        charset: decoded.charset,
        identity: shown.has('other') ? ('shown' as const) : ('masked' as const),
        raw: maskHl7Identity(decoded.text, shown),
      };
    }),

  /**
   * Processes stored messages again: one by id, or the oldest `limit` rejected ones. Applied
   * messages and duplicates are refused (CONFLICT); each attempt is counted on the message.
   */
  reprocess: procedure
    // A write of the patients the messages name, by the person who asked (the feed's own
    // row records it as the system's, as for every message it applies).
    .meta({ permission: 'interface.manage', patientData: 'write', resourceType: 'hl7_message' })
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
      const reprocess = async (id: string) => {
        const processed = await processor.reprocess(id);
        ctx.access.touch(processed.patientIds ?? []);
        ctx.access.touchEncounters(processed.encounterIds ?? []);
        return outcomeOf(processed);
      };
      if ('id' in input) return [await reprocess(input.id)];
      const ids = await listHl7MessageIds(ctx.db, 'rejected', { limit: input.limit });
      const results = [];
      for (const id of ids) results.push(await reprocess(id));
      return results;
    }),
});
