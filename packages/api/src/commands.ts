import {
  createAnonymousPatient,
  ensureEncounter,
  executeCommand,
  recordAdmitDecision,
  type CommandResult,
} from '@medaxis/db';
import { ErrorCode, liveCommandOptions, MedaxisError, type Command } from '@medaxis/domain';
import { z } from 'zod';

import type { Access, Context } from './context.ts';
import { bedId, encounterId, instant } from './inputs.ts';
import { procedure, router } from './trpc.ts';

const at = { at: instant.optional() };

/** ADT commands write patient data: audited, naming the encounters (and so the patients). */
const adtWrite = {
  permission: 'adt.write',
  patientData: 'write',
  resourceType: 'encounter',
} as const;

function run(ctx: Context & { access: Access }, command: Command): Promise<CommandResult> {
  if ('encounterId' in command) ctx.access.touchEncounters([command.encounterId]);
  if ('otherEncounterId' in command) ctx.access.touchEncounters([command.otherEncounterId]);
  return executeCommand(ctx.db, command, {
    source: 'api',
    options: liveCommandOptions(ctx.now()),
  });
}

const newEncounter = z
  .object({
    class: z.enum(['inpatient', 'emergency', 'observation']).default('inpatient'),
    admitDecisionAt: instant.optional(),
    expectedDischargeAt: instant.optional(),
  })
  .strict();

/** ADT commands: where patients lie. Each is one transaction and one board event. */
export const adtRouter = router({
  /**
   * Admits an existing encounter, or a new one (with a new patient known only by an opaque
   * id), into a bed. Creating and admitting happen in the same transaction.
   */
  admit: procedure
    .meta(adtWrite)
    .input(
      z.union([
        z.object({ bedId, encounterId, ...at }).strict(),
        z.object({ bedId, newEncounter, ...at }).strict(),
      ]),
    )
    .mutation(async ({ ctx, input }) => {
      const when = input.at ?? ctx.now();
      if ('encounterId' in input) {
        const result = await run(ctx, {
          type: 'admit',
          encounterId: input.encounterId,
          bedId: input.bedId,
          at: when,
        });
        return { ...result, encounterId: input.encounterId };
      }
      let created = '';
      const result = await executeCommand(
        ctx.db,
        async (tx) => {
          const patientId = await createAnonymousPatient(tx);
          created = await ensureEncounter(tx, {
            patientId,
            class: input.newEncounter.class,
            admitDecisionAt: input.newEncounter.admitDecisionAt ?? null,
            expectedDischargeAt: input.newEncounter.expectedDischargeAt ?? null,
          });
          return { type: 'admit', encounterId: created, bedId: input.bedId, at: when };
        },
        { source: 'api', options: liveCommandOptions(ctx.now()) },
      );
      ctx.access.touchEncounters([created]);
      return { ...result, encounterId: created };
    }),

  transfer: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, bedId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'transfer',
        encounterId: input.encounterId,
        bedId: input.bedId,
        at: input.at ?? ctx.now(),
      }),
    ),

  discharge: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'discharge', encounterId: input.encounterId, at: input.at ?? ctx.now() }),
    ),

  cancelAdmit: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'cancel-admit', encounterId: input.encounterId, at: input.at ?? ctx.now() }),
    ),

  cancelTransfer: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'cancel-transfer',
        encounterId: input.encounterId,
        at: input.at ?? ctx.now(),
      }),
    ),

  cancelDischarge: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'cancel-discharge',
        encounterId: input.encounterId,
        at: input.at ?? ctx.now(),
      }),
    ),

  /**
   * Records the decision to admit an ED patient: from then on they are boarding, and the
   * board shows the waiting time on their ED bed.
   */
  decideAdmission: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, ...at }).strict())
    .mutation(async ({ ctx, input }) => {
      const when = input.at ?? ctx.now();
      if (when.getTime() - ctx.now().getTime() > liveCommandOptions(ctx.now()).maxFutureMs) {
        throw new MedaxisError(
          ErrorCode.badEventTime,
          'future_event',
          `Event time ${when.toISOString()} is in the future.`,
        );
      }
      ctx.access.touchEncounters([input.encounterId]);
      const eventId = await recordAdmitDecision(ctx.db, {
        encounterId: input.encounterId,
        at: when,
        source: 'api',
      });
      return { eventId };
    }),

  /** Swaps two patients' beds (HL7 A17). */
  swap: procedure
    .meta(adtWrite)
    .input(z.object({ encounterId, otherEncounterId: encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'swap',
        encounterId: input.encounterId,
        otherEncounterId: input.otherEncounterId,
        at: input.at ?? ctx.now(),
      }),
    ),
});

const bedInput = z.object({ bedId, ...at }).strict();

/** Bed status commands: housekeeping, blocking, reservations, isolation. */
export const bedsRouter = router({
  cleaningStarted: procedure
    .meta({ permission: 'bed.write' })
    .input(bedInput)
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'cleaning-started', bedId: input.bedId, at: input.at ?? ctx.now() }),
    ),
  cleaningFinished: procedure
    .meta({ permission: 'bed.write' })
    .input(bedInput)
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'cleaning-finished', bedId: input.bedId, at: input.at ?? ctx.now() }),
    ),
  block: procedure
    .meta({ permission: 'bed.write' })
    .input(z.object({ bedId, reason: z.string().trim().min(1).max(200), ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'block',
        bedId: input.bedId,
        reason: input.reason,
        at: input.at ?? ctx.now(),
      }),
    ),
  unblock: procedure
    .meta({ permission: 'bed.write' })
    .input(bedInput)
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'unblock', bedId: input.bedId, at: input.at ?? ctx.now() }),
    ),
  reserve: procedure
    .meta({ permission: 'bed.write' })
    .input(z.object({ bedId, encounterId, ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'reserve',
        bedId: input.bedId,
        encounterId: input.encounterId,
        at: input.at ?? ctx.now(),
      }),
    ),
  release: procedure
    .meta({ permission: 'bed.write' })
    .input(bedInput)
    .mutation(({ ctx, input }) =>
      run(ctx, { type: 'release', bedId: input.bedId, at: input.at ?? ctx.now() }),
    ),
  setIsolation: procedure
    .meta({ permission: 'bed.write' })
    .input(z.object({ bedId, isolation: z.boolean(), ...at }).strict())
    .mutation(({ ctx, input }) =>
      run(ctx, {
        type: 'set-isolation',
        bedId: input.bedId,
        isolation: input.isolation,
        at: input.at ?? ctx.now(),
      }),
    ),
});
