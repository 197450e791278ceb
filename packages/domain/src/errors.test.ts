import { describe, expect, it } from 'vitest';

import { ErrorCode, isMedaxisError, MedaxisError } from './errors.ts';

describe('MedaxisError', () => {
  it('carries a code, a machine-readable reason and the cause', () => {
    const cause = new Error('socket closed');
    const error = new MedaxisError(ErrorCode.conflict, 'bed_occupied', 'Bed 3 is occupied.', {
      cause,
    });

    expect(error).toMatchObject({ name: 'MedaxisError', code: 'CONFLICT', reason: 'bed_occupied' });
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });

  it('is told apart from other errors', () => {
    expect(isMedaxisError(new MedaxisError(ErrorCode.internal, 'x', 'x'))).toBe(true);
    expect(isMedaxisError(new Error('x'))).toBe(false);
    expect(isMedaxisError({ code: 'CONFLICT', reason: 'x' })).toBe(false);
  });
});
