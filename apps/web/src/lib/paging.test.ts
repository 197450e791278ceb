import { describe, expect, it } from 'vitest';

import { pageAt } from './paging.ts';

describe('page at a time', () => {
  it('turns pages every dwell period and wraps around', () => {
    const dwell = 20_000;
    expect(pageAt(0, 3, dwell)).toBe(0);
    expect(pageAt(19_999, 3, dwell)).toBe(0);
    expect(pageAt(20_000, 3, dwell)).toBe(1);
    expect(pageAt(40_000, 3, dwell)).toBe(2);
    expect(pageAt(60_000, 3, dwell)).toBe(0);
  });

  it('stays on the only page', () => {
    expect(pageAt(123_456_789, 1)).toBe(0);
  });

  it('holds a pinned page while it exists, and turns pages when it does not', () => {
    expect(pageAt(40_000, 3, 20_000, 2)).toBe(1);
    expect(pageAt(40_000, 3, 20_000, 7)).toBe(2);
  });
});
