const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl formatters are costly to build and the board formats every second: keep one per use. */
function formatter(key: string, build: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let found = formatters.get(key);
  if (!found) {
    found = build();
    formatters.set(key, found);
  }
  return found;
}

/** The calendar day of an instant in a time zone, as YYYY-MM-DD (sortable as a string). */
export function dateKey(instant: number, timeZone: string): string {
  const format = formatter(
    `day:${timeZone}`,
    () =>
      // en-CA writes dates as ISO 8601 (2026-12-03).
      new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      }),
  );
  return format.format(instant);
}

/** 14:02:11 in the site's zone, 24-hour, whatever the display's locale. */
export function formatClock(instant: number, timeZone: string): string {
  const format = formatter(
    `clock:${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }),
  );
  return format.format(instant);
}

/** "Thu 3 Dec" in the site's zone. */
export function formatDay(instant: number, timeZone: string): string {
  const format = formatter(
    `date:${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        weekday: 'short',
        day: 'numeric',
        month: 'short',
      }),
  );
  return format.format(instant);
}

/**
 * An instant as a table shows it, in the site's zone whatever the browser's: "2026-12-03
 * 14:02:11", 24-hour. An absent instant reads "—"; text that is no instant is shown as it came.
 */
export function formatInstant(iso: string | null, timeZone: string): string {
  if (iso === null) return '—';
  const instant = Date.parse(iso);
  if (Number.isNaN(instant)) return iso;
  return `${dateKey(instant, timeZone)} ${formatClock(instant, timeZone)}`;
}

/**
 * The zone's short name at an instant, for a label beside times: "EST", "EDT" (the name follows
 * daylight saving time), "UTC", or "GMT+1" where the locale knows no abbreviation.
 */
export function zoneAbbreviation(instant: number, timeZone: string): string {
  const format = formatter(
    `zone:${timeZone}`,
    () => new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }),
  );
  const name = format.formatToParts(instant).find((part) => part.type === 'timeZoneName');
  return name?.value ?? timeZone;
}

/** The zone the browser runs in, for when the site's is not known. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/**
 * A bed timer, short enough for a tile: "4m", "2h 05m", "3d 7h". Under a minute reads "<1m"
 * rather than counting seconds, which would make a wall of tiles flicker.
 */
export function formatTimer(ms: number): string {
  const elapsed = Math.max(0, ms);
  if (elapsed < minute) return '<1m';
  if (elapsed < hour) return `${Math.floor(elapsed / minute)}m`;
  if (elapsed < day) {
    const minutes = Math.floor((elapsed % hour) / minute);
    return `${Math.floor(elapsed / hour)}h ${String(minutes).padStart(2, '0')}m`;
  }
  return `${Math.floor(elapsed / day)}d ${Math.floor((elapsed % day) / hour)}h`;
}

/** How long ago, for "updated 4 s ago": seconds first, since that is what freshness is about. */
export function formatAgo(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d`;
}
