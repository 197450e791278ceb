/**
 * Lays the department cards out on pages of columns, in the site's department order.
 *
 * Everything is in rem, from the same constants the CSS uses (see `boardMetrics`), so the model
 * is the layout: no measuring of cards, nothing that shifts when a bed changes state. Each
 * department is one card in one column. Only a department taller than a column is split: it
 * continues at the top of the next column under its own header, marked as continued, and never
 * onto the next page when it could start there whole.
 */

/** Sizes in rem; Board.svelte passes them to CSS as custom properties. */
export const boardMetrics = {
  /** Beds a row holds: a four-bed bay, or four single rooms. */
  slotsPerRow: 4,
  tileMinWidth: 7.4,
  tileHeight: 4.1,
  tileGap: 0.22,
  roomPad: 0.16,
  roomGap: 0.3,
  /** Card header: name and occupancy, then the counts line. */
  cardHeader: 3.05,
  /** Card padding top and bottom plus border. */
  cardChrome: 0.98,
  cardPadX: 0.5,
  /** Between cards and between columns. */
  gap: 0.6,
} as const;
export type BoardMetrics = typeof boardMetrics;

/** Height of one row of rooms, its share of the gap below it included. */
export function rowHeight(m: BoardMetrics = boardMetrics): number {
  return m.tileHeight + 2 * m.roomPad + m.roomGap;
}

/** The narrowest column that holds a row of four single rooms. */
export function minColumnWidth(m: BoardMetrics = boardMetrics): number {
  const slots = m.slotsPerRow;
  return slots * m.tileMinWidth + slots * 2 * m.roomPad + (slots - 1) * m.roomGap + 2 * m.cardPadX;
}

/** Columns per page for a board area `width` rem wide. */
export function columnsFor(width: number, m: BoardMetrics = boardMetrics): number {
  return Math.max(1, Math.floor((width + m.gap) / (minColumnWidth(m) + m.gap)));
}

/**
 * Tile width that makes a row of four single rooms fill a column exactly (the widest a row can
 * be), for columns sharing `width` rem.
 */
export function tileWidthFor(width: number, columns: number, m: BoardMetrics = boardMetrics) {
  const column = (width - (columns - 1) * m.gap) / columns;
  const slots = m.slotsPerRow;
  const chrome = slots * 2 * m.roomPad + (slots - 1) * m.roomGap + 2 * m.cardPadX;
  return Math.max(m.tileMinWidth, (column - chrome) / slots);
}

/** A room as the layout sees it: how many beds it has. */
export interface RoomSize {
  beds: number;
}

/**
 * One row of a card: whole rooms (indexes into the department's rooms), or one line of a room
 * with more beds than a row holds, whose beds `start` to `end` (exclusive) it shows.
 */
export interface RoomRow {
  rooms: number[];
  slice?: { start: number; end: number };
}

/**
 * Packs rooms, in order, into rows of `slots` beds. A room with more beds than a row holds
 * (an open bay, an imported unit) takes lines of its own, which may continue in the next column
 * like any other row: a room taller than a column must not run off the screen.
 */
export function packRooms(rooms: readonly RoomSize[], slots: number): RoomRow[] {
  const rows: RoomRow[] = [];
  let current: RoomRow | null = null;
  let used = 0;

  rooms.forEach((room, index) => {
    const beds = Math.max(1, room.beds);
    if (beds > slots) {
      for (let start = 0; start < beds; start += slots) {
        rows.push({ rooms: [index], slice: { start, end: Math.min(beds, start + slots) } });
      }
      current = null;
      return;
    }
    if (current === null || used + beds > slots) {
      current = { rooms: [] };
      rows.push(current);
      used = 0;
    }
    current.rooms.push(index);
    used += beds;
  });
  return rows;
}

/** One card on a page: a department, or the part of it that fits a column. */
export interface CardPart {
  department: number;
  rows: RoomRow[];
  /** True when the part continues a department begun in the previous column. */
  continued: boolean;
}

export type Column = CardPart[];
export type Page = Column[];

export interface DepartmentSize {
  rooms: readonly RoomSize[];
}

/**
 * Lays departments out on pages of `columns` columns, each `columnHeight` rem high. Always
 * returns at least one page.
 */
export function layoutPages(
  departments: readonly DepartmentSize[],
  columns: number,
  columnHeight: number,
  m: BoardMetrics = boardMetrics,
): Page[] {
  const row = rowHeight(m);
  const card = m.cardHeader + m.cardChrome;
  const heightOf = (rows: readonly RoomRow[]) => card + rows.length * row - m.roomGap;

  const pages: Page[] = [];
  let page: Page = [[]];
  let used = 0;

  const nextColumn = () => {
    if (page.length === columns) {
      pages.push(page);
      page = [];
    }
    page.push([]);
    used = 0;
  };
  const nextPage = () => {
    pages.push(page);
    page = [[]];
    used = 0;
  };
  const room = () => columnHeight - used;
  const column = () => page[page.length - 1]!;
  const pageIsEmpty = () => page.length === 1 && column().length === 0;
  /** Space left on this page: the rest of this column and every column not yet begun. */
  const roomOnPage = () => room() + (columns - page.length) * columnHeight;

  departments.forEach((department, index) => {
    const rows = packRooms(department.rooms, m.slotsPerRow);
    const whole = heightOf(rows);

    // Start a department on a fresh page when it would otherwise spill over to the next page
    // but fits on one by itself: half a ward on each page is hard to read from a distance.
    if (!pageIsEmpty() && whole > roomOnPage() && whole <= columns * columnHeight) nextPage();

    // One card per department wherever it fits one column: begin it at the top of the next
    // column rather than split it. Only a department taller than a column is split.
    if (used > 0 && whole <= columnHeight && whole > room()) nextColumn();

    let next = 0;
    let continued = false;
    while (next < rows.length || (rows.length === 0 && !continued)) {
      // A header with a lone row under it reads as a stray: begin a part only where a header
      // and two rows fit (or all that is left), else at the top of the next column.
      const opening = rows.slice(next, next + 2);
      const minimum = heightOf(opening);
      if (used > 0 && minimum > room()) nextColumn();

      const part: CardPart = { department: index, rows: [], continued };
      let height = card - m.roomGap;
      while (next < rows.length) {
        if (part.rows.length > 0 && height + row > room()) break;
        part.rows.push(rows[next]!);
        height += row;
        next += 1;
      }
      column().push(part);
      used += height + m.gap;
      continued = true;
      if (next < rows.length) nextColumn();
    }
  });

  pages.push(page);
  return pages;
}

/**
 * The largest zoom, up to `maxScale`, at which everything still fits on one page: a ward's own
 * board or a small site gets big tiles instead of a corner of the screen. 1 when the board
 * needs paging anyway.
 */
export function fitScale(
  departments: readonly DepartmentSize[],
  width: number,
  height: number,
  maxScale = 2.4,
  m: BoardMetrics = boardMetrics,
): number {
  if (width <= 0 || height <= 0) return 1;
  // Steps of 0.05 from the top: at most ~30 layouts, each a few microseconds.
  for (let step = Math.round((maxScale - 1) / 0.05); step > 0; step--) {
    const scale = 1 + step * 0.05;
    const columns = columnsFor(width / scale, m);
    if (layoutPages(departments, columns, height / scale, m).length === 1) return scale;
  }
  return 1;
}
