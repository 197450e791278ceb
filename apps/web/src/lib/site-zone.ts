import { browserTimeZone, formatInstant } from './time.ts';

/*
 * The zone the working pages show times in. Hospital staff work in the hospital's time, so it is
 * the site's zone, as the session (/auth/session) and the board's snapshot give it, kept here
 * for the pages that render after them. The browser's zone is a fallback, labelled as such, for
 * a page that has not heard the site's zone (the server down, a browser refusing storage).
 */

const storageKey = 'medaxis.siteTimeZone';

export interface DisplayZone {
  timeZone: string;
  /** Whether it is the hospital's zone (else the browser's, for want of the hospital's). */
  ofSite: boolean;
}

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

function defaultStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Storage refused (a locked-down browser profile): the browser's zone, labelled, still works.
    return null;
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Keeps the site's zone as the board's snapshot gave it, for the pages without a board. */
export function rememberSiteTimeZone(timeZone: string, storage = defaultStorage()): void {
  if (!isTimeZone(timeZone)) return;
  try {
    if (storage?.getItem(storageKey) !== timeZone) storage?.setItem(storageKey, timeZone);
  } catch {
    // Storage full or refused: the pages fall back to the browser's zone, labelled.
  }
}

/** The site's zone as last seen on a board, or null when no board has been seen here. */
export function knownSiteTimeZone(storage = defaultStorage()): string | null {
  let value: string | null;
  try {
    value = storage?.getItem(storageKey) ?? null;
  } catch {
    return null;
  }
  return value !== null && isTimeZone(value) ? value : null;
}

/** The zone to show times in: the site's when known, else the browser's. */
export function displayZone(storage = defaultStorage()): DisplayZone {
  const site = knownSiteTimeZone(storage);
  return site === null
    ? { timeZone: browserTimeZone(), ofSite: false }
    : { timeZone: site, ofSite: true };
}

/** Formats ISO instants in a zone, for a page's tables: `const at = instantsIn(zone)`. */
export function instantsIn(zone: DisplayZone): (iso: string | null) => string {
  return (iso) => formatInstant(iso, zone.timeZone);
}
