import { activeBreakGlass } from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';
import { decideAccess, grants } from '@medaxis/policy';
import { initTRPC, TRPCError } from '@trpc/server';

import type { Access, Context, ProcedureMeta } from './context.ts';
import { toTrpcError } from './errors.ts';

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      return {
        ...shape,
        data: {
          ...shape.data,
          // Callers branch on these, never on the message.
          medaxis: isMedaxisError(cause) ? { code: cause.code, reason: cause.reason } : null,
        },
      };
    },
  });

export const router = t.router;

/**
 * The one enforcement point every procedure passes (DESIGN.md, "Security"): deny by default.
 * A procedure must name its permission in `.meta()`; packages/policy `decideAccess` then says
 * whether the actor may use it for the declared purpose of use and, if so, which patients
 * (row filter) and which of their identity (field mask) the procedure may reach. The patient
 * repository functions of packages/db require that filter and mask, so no procedure reaches
 * patient data around this point. The decision travels on as `ctx.access`. Failures say
 * little to the client (UNAUTHORIZED / FORBIDDEN with a reason code, never data); domain
 * errors become typed tRPC errors.
 */
export const procedure = t.procedure.use(async ({ ctx, meta, next }) => {
  if (!meta?.permission) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.' });
  }
  if (!ctx.actor) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  }

  const now = ctx.now();
  // Overrides matter only where patient data is read, and only for those who may hold one.
  const overrides =
    meta.patientData && grants(ctx.roles, ctx.actor, 'breakglass.use')
      ? await activeBreakGlass(ctx.db, ctx.actor.id, now)
      : [];
  const decision = decideAccess({
    roles: ctx.roles,
    policies: ctx.policies,
    actor: ctx.actor,
    permission: meta.permission,
    purpose: ctx.purpose,
    patientData: meta.patientData !== undefined,
    breakGlass: overrides,
    now,
  });
  if (!decision.allow) {
    const cause = new MedaxisError(ErrorCode.forbidden, decision.reason, 'Not allowed.');
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.', cause });
  }

  const touched = new Set<string>();
  const breakGlassPatients = new Set<string>();
  const access: Access = {
    actor: ctx.actor,
    permission: meta.permission,
    departments: decision.departments,
    purpose: decision.auditPurpose,
    filter: decision.rowFilter,
    mask: decision.fieldMask,
    breakGlass: decision.breakGlass,
    decision,
    touched,
    breakGlassPatients,
    touch(patientIds, options) {
      for (const id of patientIds) {
        touched.add(id);
        if (options?.breakGlass) breakGlassPatients.add(id);
      }
    },
  };

  const result = await next({ ctx: { access } });
  if (!result.ok && isMedaxisError(result.error.cause)) throw toTrpcError(result.error.cause);
  return result;
});
