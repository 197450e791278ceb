import { Temporal } from 'temporal-polyfill';

import { ErrorCode, MedaxisError } from '@medaxis/domain';

/** A MIMIC timestamp resolved to an instant, and whether a DST rule had to choose it. */
export interface MimicInstant {
  at: Date;
  /** The wall time fell in a DST gap or overlap of the zone: the 'compatible' rule chose. */
  dstResolved: boolean;
}

const mimicTimestamp = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;

/**
 * Throws unless `zone` is an IANA time zone (or UTC) that the time-zone database knows, so a
 * typo in `--tz` stops an import before it writes anything.
 */
export function checkTimeZone(zone: string): string {
  try {
    return Temporal.Now.zonedDateTimeISO(zone).timeZoneId;
  } catch (error) {
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_time_zone',
      `Unknown time zone ${zone}.`,
      {
        cause: error,
      },
    );
  }
}

/**
 * MIMIC stores wall-clock times without a zone ("2150-03-01 14:05:00"); they are read as wall
 * time in `zone`. A wall time that falls in a DST gap or overlap has no single instant: the
 * 'compatible' rule (RFC 5545, and what Temporal and most calendars do) takes the earlier of
 * two and moves a skipped time forward. Consecutive rows share the same text at a transfer,
 * so they resolve to the same instant and the chain of stays stays closed either way.
 * Returns undefined for text that is not such a timestamp.
 */
export function parseMimicTime(text: string, zone: string): MimicInstant | undefined {
  const match = mimicTimestamp.exec(text.trim());
  if (!match) return undefined;

  let wall: Temporal.PlainDateTime;
  try {
    wall = Temporal.PlainDateTime.from(
      {
        year: Number(match[1]),
        month: Number(match[2]),
        day: Number(match[3]),
        hour: Number(match[4]),
        minute: Number(match[5]),
        second: Number(match[6] ?? 0),
        millisecond: Math.floor(Number(match[7] ?? 0) * 1000),
      },
      { overflow: 'reject' },
    );
  } catch {
    return undefined;
  }

  const earlier = wall.toZonedDateTime(zone, { disambiguation: 'earlier' });
  const later = wall.toZonedDateTime(zone, { disambiguation: 'later' });
  const chosen = wall.toZonedDateTime(zone, { disambiguation: 'compatible' });
  return {
    at: new Date(chosen.epochMilliseconds),
    dstResolved: earlier.epochMilliseconds !== later.epochMilliseconds,
  };
}
