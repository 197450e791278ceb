import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';

import { refusalOf, refusalText } from './ops-api.ts';

function trpcError(code: string) {
  return new TRPCClientError<never>('refused', {
    result: { error: { code: -32603, message: 'refused', data: { code } } },
  } as never);
}

describe('operations page refusals', () => {
  it('tells not signed in, not allowed and gone apart from any other failure', () => {
    expect(refusalOf(trpcError('UNAUTHORIZED'))).toBe('unauthorized');
    expect(refusalOf(trpcError('FORBIDDEN'))).toBe('forbidden');
    expect(refusalOf(trpcError('NOT_FOUND'))).toBe('not_found');
    expect(refusalOf(trpcError('CONFLICT'))).toBe('conflict');
    expect(refusalOf(trpcError('INTERNAL_SERVER_ERROR'))).toBe('failed');
    expect(refusalOf(new TypeError('Failed to fetch'))).toBe('failed');
  });

  it('words a refusal for a person', () => {
    expect(refusalText('forbidden')).toBe('Your role does not allow this page.');
    expect(refusalText('failed')).toMatch(/could not be reached/);
  });
});
