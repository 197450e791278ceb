import { loadConsentRecords, patientsInScope, recordConsent } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import {
  checkConsentInput,
  consentActions,
  consentState,
  type ConsentInput,
  type ConsentRecord,
} from '@medaxis/policy';
import { z } from 'zod';

import type { Access, Context } from './context.ts';
import { instant } from './inputs.ts';
import { patientId, readOnePatient } from './patients.ts';
import { procedure, router } from './trpc.ts';

const consentRecordInput = z
  .object({
    patientId,
    policy: z.string().trim().min(1).max(64),
    action: z.enum(consentActions),
    /** Default: now. */
    validFrom: instant.optional(),
    /** Default: until further notice. */
    validTo: instant.nullable().optional(),
  })
  .strict();

/** What a consent record shows: the decision, its period, who recorded it and when. */
function toView(record: ConsentRecord) {
  return {
    id: record.id,
    patientId: record.patientId,
    policy: record.policy,
    action: record.action,
    validFrom: record.validFrom.toISOString(),
    validTo: record.validTo?.toISOString() ?? null,
    recordedBy: record.recordedBy,
    recordedAt: record.recordedAt.toISOString(),
  };
}

/**
 * Checks every record first, then writes them all in one transaction: a batch with one bad
 * record (an unknown policy, a period that ends before it starts, a patient out of scope)
 * changes nothing.
 */
async function record(ctx: Context & { access: Access }, inputs: ConsentInput[]) {
  inputs.forEach((input, index) => checkConsentInput(input, ctx.policies, `records[${index}]`));

  // Consent aside on purpose: whoever records a decision need not see the patient's identity,
  // and a restriction must stay liftable by those it hides the patient from.
  const patientIds = [...new Set(inputs.map((input) => input.patientId))];
  const inScope = await patientsInScope(ctx.db, ctx.access.filter, patientIds);
  if (inScope.size !== patientIds.length) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'No such patient.');
  }

  const records = await recordConsent(ctx.db, inputs, ctx.access.actor.id);
  ctx.access.touch(patientIds);
  return { records: records.map(toView) };
}

export const consentRouter = router({
  /** Records consent decisions (grant, restrict, revoke over a period), all or none. */
  record: procedure
    .meta({ permission: 'consent.write', patientData: 'write' })
    .input(z.object({ records: z.array(consentRecordInput).min(1).max(50) }).strict())
    .mutation(({ ctx, input }) => {
      const now = ctx.now();
      return record(
        ctx,
        input.records.map((item) => ({
          patientId: item.patientId,
          policy: item.policy,
          action: item.action,
          validFrom: item.validFrom ?? now,
          validTo: item.validTo ?? null,
        })),
      );
    }),

  /**
   * Withdraws the patient's consent under a policy from now on, until further notice. Open
   * board streams re-show the patient's bed at once; the next request of anyone sees it.
   */
  revoke: procedure
    .meta({ permission: 'consent.write', patientData: 'write' })
    .input(z.object({ patientId, policy: z.string().trim().min(1).max(64) }).strict())
    .mutation(async ({ ctx, input }) => {
      const result = await record(ctx, [
        {
          patientId: input.patientId,
          policy: input.policy,
          action: 'revoke',
          validFrom: ctx.now(),
          validTo: null,
        },
      ]);
      return result.records[0]!;
    }),

  /**
   * A patient's consent records and each policy's decision now. Only for a patient in view:
   * the records themselves say which restrictions apply.
   */
  list: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object({ patientId }).strict())
    .query(async ({ ctx, input }) => {
      await readOnePatient(ctx, input.patientId);
      const records = await loadConsentRecords(ctx.db, [input.patientId]);
      return {
        records: records.map(toView),
        state: Object.fromEntries(consentState(records, ctx.policies, ctx.now())),
      };
    }),
});
