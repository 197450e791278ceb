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

/**
 * Close codes of the board stream (`GET /board-stream`) and what a client does on each. 1008
 * and 1011 are the standard ones; 4xxx are ours (the range RFC 6455 leaves to applications).
 */
export const boardStreamClose = {
  /** Malformed query (department code, event id): a client bug, retrying will not help. */
  invalidQuery: 1008,
  /** The server failed, e.g. reading the event log: reconnect after a while and resume. */
  internal: 1011,
  /** The board fell too far behind the live feed: reconnect now and resume from its last id. */
  fellBehind: 4001,
  unauthorized: 4401,
  forbidden: 4403,
  /** No such department: the client reloads its snapshot, which says so. */
  notFound: 4404,
} as const;

/** The one table from MedaxisError codes to board stream close codes. */
export const boardStreamCloseFor = {
  [ErrorCode.validation]: boardStreamClose.invalidQuery,
  [ErrorCode.notFound]: boardStreamClose.notFound,
  [ErrorCode.conflict]: boardStreamClose.invalidQuery,
  [ErrorCode.badEventTime]: boardStreamClose.invalidQuery,
  [ErrorCode.unauthorized]: boardStreamClose.unauthorized,
  [ErrorCode.forbidden]: boardStreamClose.forbidden,
  [ErrorCode.internal]: boardStreamClose.internal,
} as const satisfies Record<ErrorCode, number>;
