import { ErrorCode, isMedaxisError } from '@medaxis/domain';
import { TRPCError } from '@trpc/server';

type TrpcCode = TRPCError['code'];

/** The one table from MedaxisError codes to tRPC codes (and through them, HTTP statuses). */
export const trpcCodeFor = {
  [ErrorCode.validation]: 'BAD_REQUEST',
  [ErrorCode.notFound]: 'NOT_FOUND',
  [ErrorCode.conflict]: 'CONFLICT',
  [ErrorCode.badEventTime]: 'UNPROCESSABLE_CONTENT',
  [ErrorCode.unauthorized]: 'UNAUTHORIZED',
  [ErrorCode.forbidden]: 'FORBIDDEN',
  [ErrorCode.internal]: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<ErrorCode, TrpcCode>;

/** Turns a domain error into the tRPC error the client sees; anything else passes through. */
export function toTrpcError(error: unknown): unknown {
  if (!isMedaxisError(error)) return error;
  return new TRPCError({ code: trpcCodeFor[error.code], message: error.message, cause: error });
}
