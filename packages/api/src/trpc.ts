import { isMedaxisError } from '@medaxis/domain';
import { initTRPC } from '@trpc/server';

import type { Context } from './context.ts';
import { toTrpcError } from './errors.ts';

const t = initTRPC.context<Context>().create({
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
 * Every procedure goes through this one middleware: domain errors become typed tRPC errors.
 * SHORTCUT(auth): there is no authentication or policy check yet; every caller acts as the
 * system. The security issue puts sessions, roles, consent and audit here, at this one
 * point. Until then the server binds to 127.0.0.1 by default.
 */
export const procedure = t.procedure.use(async ({ next }) => {
  const result = await next();
  if (!result.ok && isMedaxisError(result.error.cause)) throw toTrpcError(result.error.cause);
  return result;
});
