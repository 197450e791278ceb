import { isMedaxisError } from '@medaxis/domain';
import { departmentScope, grants } from '@medaxis/policy';
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
 * A procedure must name its permission in `.meta()`; the actor must hold it through one of
 * its roles; the granted department scope travels on as `ctx.access`. Failures say little to
 * the client (UNAUTHORIZED / FORBIDDEN) and domain errors become typed tRPC errors.
 */
export const procedure = t.procedure.use(async ({ ctx, meta, next }) => {
  if (!meta?.permission) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.' });
  }
  if (!ctx.actor) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  }
  if (!grants(ctx.roles, ctx.actor, meta.permission)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.' });
  }
  const access: Access = {
    actor: ctx.actor,
    permission: meta.permission,
    departments: departmentScope(ctx.roles, ctx.actor, meta.permission),
  };

  const result = await next({ ctx: { access } });
  if (!result.ok && isMedaxisError(result.error.cause)) throw toTrpcError(result.error.cause);
  return result;
});
