import { describe, expect, it } from 'vitest';

import { countPages, pageAt, pageOffset } from './paging.ts';

describe('page count', () => {
  const width = 1880;
  const gap = 12;

  it('is one page when the cards end within the first page', () => {
    expect(countPages(1880, width, gap)).toBe(1);
    expect(countPages(300, width, gap)).toBe(1);
  });

  it('is one page for an empty board', () => {
    expect(countPages(0, width, gap)).toBe(1);
  });

  it('adds a page as soon as a card reaches into the next one', () => {
    // The second page's first column starts at width + gap.
    expect(countPages(width + gap + 50, width, gap)).toBe(2);
  });

  it('counts three pages for content ending on the third', () => {
    expect(countPages(2 * (width + gap) + width, width, gap)).toBe(3);
  });

  it('ignores a sub-pixel overshoot from fractional layout', () => {
    expect(countPages(width + 0.6, width, gap)).toBe(1);
  });

  it('is one page before the layout has a width', () => {
    expect(countPages(5000, 0, gap)).toBe(1);
  });
});

describe('page offset', () => {
  it('steps one page width plus the column gap per page', () => {
    expect(pageOffset(0, 1000, 10)).toBe(0);
    expect(pageOffset(2, 1000, 10)).toBe(2020);
  });
});

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
