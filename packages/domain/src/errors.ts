/**
 * The closed set of error codes MedAxis answers with. Callers branch on `code`, never on the
 * message. packages/api maps each code to one tRPC/HTTP status.
 */
export const ErrorCode = {
  validation: 'VALIDATION',
  notFound: 'NOT_FOUND',
  /** The request conflicts with the current state (occupied bed, already admitted, ...). */
  conflict: 'CONFLICT',
  /** Event time outside what a live command may carry (far future, before the current state). */
  badEventTime: 'BAD_EVENT_TIME',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Machine-readable reason under a code, for reports and tests (e.g. `bed_occupied`). */
export type ErrorReason = string;

export class MedaxisError extends Error {
  override readonly name = 'MedaxisError';

  constructor(
    readonly code: ErrorCode,
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMedaxisError(error: unknown): error is MedaxisError {
  return error instanceof MedaxisError;
}
