import { pageDwellMs } from './paging.ts';

/** Display options from the URL: `?page=2` holds a page, `?dwell=30` turns pages every 30 s. */
export function readBoardParams(search: Pick<URLSearchParams, 'get'>): {
  pinnedPage: number | undefined;
  dwellMs: number;
} {
  const page = Number(search.get('page'));
  const dwell = Number(search.get('dwell'));
  return {
    pinnedPage: Number.isInteger(page) && page >= 1 ? page : undefined,
    dwellMs: Number.isFinite(dwell) && dwell >= 3 ? dwell * 1000 : pageDwellMs,
  };
}
