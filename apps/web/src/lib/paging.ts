/** How long each page stays up when the departments do not fit on one screen. */
export const pageDwellMs = 20_000;

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
