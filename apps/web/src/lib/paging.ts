/**
 * Paging of the department cards. The cards are laid out in CSS columns of a fixed height;
 * columns that do not fit overflow to the right in steps of one page width plus the column gap,
 * so page n starts at n × (width + gap) and the page count follows from where the last card ends.
 */

/** How long each page stays up when the departments do not fit on one screen. */
export const pageDwellMs = 20_000;

/** Layout measurements are fractional; a sliver past the edge is not a page. */
const tolerancePx = 2;

/** Pages needed for content ending `contentEnd` px from its start, on pages `pageWidth` wide. */
export function countPages(contentEnd: number, pageWidth: number, gap: number): number {
  if (pageWidth <= 0 || contentEnd <= 0) return 1;
  const stride = pageWidth + gap;
  return Math.max(1, Math.ceil((contentEnd + gap - tolerancePx) / stride));
}

/** Horizontal offset of page `page` (0-based). */
export function pageOffset(page: number, pageWidth: number, gap: number): number {
  return page * (pageWidth + gap);
}

/**
 * The page to show at `now`. Derived from the clock instead of counted, so it needs no timer of
 * its own and two displays side by side turn pages together. A pinned page (1-based, from the
 * URL) wins while it exists.
 */
export function pageAt(now: number, pageCount: number, dwellMs = pageDwellMs, pinned?: number) {
  if (pageCount <= 1) return 0;
  if (pinned !== undefined && pinned >= 1 && pinned <= pageCount) return pinned - 1;
  return Math.floor(now / dwellMs) % pageCount;
}
