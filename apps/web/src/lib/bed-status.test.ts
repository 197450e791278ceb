import { describe, expect, it } from 'vitest';

import { tileCode } from './bed-status.ts';

describe('tile code', () => {
  it('drops the department prefix the card already shows', () => {
    expect(tileCode('AMU-03B', 'AMU')).toBe('03B');
    expect(tileCode('ICU.12', 'ICU')).toBe('12');
  });

  it('keeps codes that do not start with the department code', () => {
    expect(tileCode('MICU-4', 'ICU')).toBe('MICU-4');
    expect(tileCode('B12', 'MED')).toBe('B12');
  });

  it('keeps a code that would be left empty', () => {
    expect(tileCode('ED-', 'ED')).toBe('ED-');
  });
});
