import { describe, expect, it } from 'vitest';

import {
  boardMetrics as m,
  columnsFor,
  fitScale,
  layoutPages,
  minColumnWidth,
  packRooms,
  rowHeight,
  tileWidthFor,
  type DepartmentSize,
  type Page,
} from './layout.ts';

const bays = (count: number, beds = 4): DepartmentSize => ({
  rooms: Array.from({ length: count }, () => ({ beds })),
});

/** Column height that holds a card of exactly `rows` rows. */
const holding = (rows: number) => m.cardHeader + m.cardChrome + rows * rowHeight() - m.roomGap;

/** A page as [department, rows, continued] per card, per column: easy to read in a test. */
const shape = (page: Page) =>
  page.map((column) => column.map((part) => [part.department, part.rows.length, part.continued]));

describe('packing rooms into rows', () => {
  const singles = (count: number) => Array.from({ length: count }, () => ({ beds: 1 }));

  it('puts a four-bed bay on a row of its own', () => {
    expect(packRooms([{ beds: 4 }, { beds: 4 }], 4)).toEqual([{ rooms: [0] }, { rooms: [1] }]);
  });

  it('puts four single rooms side by side', () => {
    expect(packRooms(singles(6), 4)).toEqual([{ rooms: [0, 1, 2, 3] }, { rooms: [4, 5] }]);
  });

  it('starts a new row when the next room does not fit, keeping room order', () => {
    expect(packRooms([{ beds: 2 }, { beds: 3 }, { beds: 1 }], 4)).toEqual([
      { rooms: [0] },
      { rooms: [1, 2] },
    ]);
  });

  it('gives a six-bed bay two lines of its own', () => {
    expect(packRooms([{ beds: 1 }, { beds: 6 }, { beds: 1 }], 4)).toEqual([
      { rooms: [0] },
      { rooms: [1], slice: { start: 0, end: 4 } },
      { rooms: [1], slice: { start: 4, end: 6 } },
      { rooms: [2] },
    ]);
  });

  it('lets a room taller than a column continue in the next column', () => {
    const pages = layoutPages([{ rooms: [{ beds: 40 }] }], 3, holding(5));

    expect(pages.map(shape)).toEqual([[[[0, 5, false]], [[0, 5, true]]]]);
  });
});

describe('columns', () => {
  it('fits three columns on a 16:9 board and tiles fill them', () => {
    // 1920 px at 0.9 vw per rem is 111 rem, less the board's padding.
    const width = 109;
    const columns = columnsFor(width);
    expect(columns).toBe(3);

    const tile = tileWidthFor(width, columns);
    const column = (width - 2 * m.gap) / 3;
    expect(tile).toBeGreaterThanOrEqual(m.tileMinWidth);
    expect(minColumnWidth() - 4 * m.tileMinWidth + 4 * tile).toBeCloseTo(column, 6);
  });

  it('keeps at least one column on a narrow screen', () => {
    expect(columnsFor(10)).toBe(1);
  });
});

describe('laying out pages', () => {
  it('puts everything on one page when it fits', () => {
    const pages = layoutPages([bays(2), bays(3)], 3, holding(10));

    expect(pages.map(shape)).toEqual([
      [
        [
          [0, 2, false],
          [1, 3, false],
        ],
      ],
    ]);
  });

  it('starts a department that fits a column in the next column rather than split it', () => {
    const pages = layoutPages([bays(3), bays(4)], 3, holding(5));

    expect(pages.map(shape)).toEqual([[[[0, 3, false]], [[1, 4, false]]]]);
  });

  it('continues a department taller than a column at the top of the next one', () => {
    const pages = layoutPages([bays(3), bays(6)], 3, holding(5));

    // Too little is left under department 0 for a header and two rows.
    expect(pages.map(shape)).toEqual([[[[0, 3, false]], [[1, 5, false]], [[1, 1, true]]]]);
  });

  it('fills the rest of a column before continuing a department taller than a column', () => {
    const pages = layoutPages([bays(2), bays(8)], 3, holding(5));

    expect(pages.map(shape)).toEqual([
      [
        [
          [0, 2, false],
          [1, 2, false],
        ],
        [[1, 5, true]],
        [[1, 1, true]],
      ],
    ]);
  });

  it('moves a department that would straddle two pages to the next page whole', () => {
    const pages = layoutPages([bays(4), bays(4), bays(5)], 2, holding(5));

    expect(pages.map(shape)).toEqual([[[[0, 4, false]], [[1, 4, false]]], [[[2, 5, false]]]]);
  });

  it('splits a department larger than a page across pages, as it must', () => {
    const pages = layoutPages([bays(12)], 2, holding(5));

    expect(pages.map(shape)).toEqual([[[[0, 5, false]], [[0, 5, true]]], [[[0, 2, true]]]]);
  });

  it('starts a card in a new column rather than leave a header alone at the bottom', () => {
    const pages = layoutPages([bays(4), bays(3)], 2, holding(4) + m.cardHeader + m.cardChrome);

    expect(pages.map(shape)).toEqual([[[[0, 4, false]], [[1, 3, false]]]]);
  });

  it('shows a department with no beds as an empty card', () => {
    const pages = layoutPages([{ rooms: [] }], 1, holding(5));

    expect(pages.map(shape)).toEqual([[[[0, 0, false]]]]);
  });

  it('always returns a page, even for a site with no departments', () => {
    expect(layoutPages([], 3, holding(5))).toEqual([[[]]]);
  });

  it('places every row of a 300-bed hospital once, with no column over its height', () => {
    const hospital = [
      { rooms: [...bays(12, 1).rooms, ...bays(6, 2).rooms] },
      { rooms: [...bays(4, 1).rooms, ...bays(12, 2).rooms, ...bays(2).rooms] },
      { rooms: [...bays(4, 1).rooms, ...bays(12, 2).rooms, ...bays(2).rooms] },
      { rooms: [...bays(4, 1).rooms, ...bays(14, 2).rooms] },
      bays(16, 1),
      bays(10, 2),
      bays(9, 6),
    ];
    const columnHeight = 47;

    const pages = layoutPages(hospital, 3, columnHeight);

    const parts = pages.flat(2);
    hospital.forEach((department, index) => {
      const rows = parts.filter((p) => p.department === index).flatMap((p) => p.rows);
      expect(rows).toEqual(packRooms(department.rooms, 4));
    });
    for (const column of pages.flat()) {
      const height = column.reduce(
        (sum, part) =>
          sum + m.cardHeader + m.cardChrome + part.rows.length * rowHeight() - m.roomGap + m.gap,
        -m.gap,
      );
      expect(height).toBeLessThanOrEqual(columnHeight);
    }
  });
});

describe('zoom to fit', () => {
  it('enlarges a small board until it would no longer fit one page', () => {
    const ward = [bays(6)];
    const scale = fitScale(ward, 109, 51);

    expect(scale).toBeGreaterThan(1);
    expect(layoutPages(ward, columnsFor(109 / scale), 51 / scale)).toHaveLength(1);
    const larger = scale + 0.05;
    expect(layoutPages(ward, columnsFor(109 / larger), 51 / larger).length).toBeGreaterThan(1);
  });

  it('stops at the largest zoom allowed', () => {
    expect(fitScale([{ rooms: [{ beds: 1 }] }], 109, 51)).toBeCloseTo(2.4, 6);
  });

  it('leaves a board that needs paging at its normal size', () => {
    expect(
      fitScale(
        Array.from({ length: 12 }, () => bays(8)),
        109,
        51,
      ),
    ).toBe(1);
  });

  it('leaves the board alone before it is measured', () => {
    expect(fitScale([bays(2)], 0, 0)).toBe(1);
  });
});
