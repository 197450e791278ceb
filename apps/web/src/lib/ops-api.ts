import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@medaxis/api';

/**
 * The tRPC client of the operations pages (interfaces, data quality). They serve hospital
 * operations, and say so: the purpose of use goes with every request (an administrator may
 * declare no other, and the audit trail records it).
 */
export function createOpsClient() {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: '/trpc', headers: { 'x-purpose-of-use': 'operations' } })],
  });
}

export type OpsClient = ReturnType<typeof createOpsClient>;

/** What a failed call means to a person: not signed in, not allowed, or something else. */
export type Refusal = 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'failed';

export function refusalOf(error: unknown): Refusal {
  if (!(error instanceof TRPCClientError)) return 'failed';
  const data: unknown = error.data;
  const code = typeof data === 'object' && data !== null && 'code' in data ? String(data.code) : '';
  switch (code) {
    case 'UNAUTHORIZED':
      return 'unauthorized';
    case 'FORBIDDEN':
      return 'forbidden';
    case 'NOT_FOUND':
      return 'not_found';
    case 'CONFLICT':
      return 'conflict';
    default:
      return 'failed';
  }
}

/** A message for a person, for a refusal. */
export function refusalText(refusal: Refusal): string {
  switch (refusal) {
    case 'unauthorized':
      return 'Your session has ended. Sign in again.';
    case 'forbidden':
      return 'Your role does not allow this page.';
    case 'not_found':
      return 'It is no longer there.';
    case 'conflict':
      return 'There is nothing left to do for it.';
    case 'failed':
      return 'The server could not be reached. Try again in a moment.';
  }
}
