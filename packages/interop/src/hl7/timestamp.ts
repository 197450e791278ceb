import { Temporal } from 'temporal-polyfill';

/** What an HL7 timestamp said: an instant, and how precise the sender was. */
export interface Hl7Instant {
  at: Date;
  precision: 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction';
  /** The offset came from the timestamp itself, not from a default. */
  explicitOffset: boolean;
}

/** Where a timestamp without its own offset is placed (docs/hl7.md, "Times"). */
export interface TimestampDefaults {
  /** An offset such as "+0215" or "-05:00", e.g. the one MSH-7 carried. */
  offset?: string | undefined;
  /** Else this IANA zone: the hospital's. */
  timeZone: string;
}

// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]; a lone seconds digit is read as seconds,
// as Medplum's parser does (some senders drop a leading zero).
const pattern = new RegExp(
  String.raw`^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})` +
    String.raw`(?:(\d{1,2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2})?)?$`,
);

const offsetPattern = /^([+-])(\d{2}):?(\d{2})?$/;

/**
 * Reads an HL7 v2 DTM/TS value of any precision. The offset in the value wins; without one,
 * `defaults.offset` (the sender's, from MSH-7) applies, else the wall time is read in
 * `defaults.timeZone`, a DST gap or overlap resolved the 'compatible' way (earlier of two,
 * a skipped time moved forward). Returns undefined for anything that is not such a value
 * (including impossible dates such as 20230231), so the caller can reject the message.
 */
export function parseHl7Timestamp(
  text: string,
  defaults: TimestampDefaults,
): Hl7Instant | undefined {
  // TS (before v2.6) may carry a degree-of-precision component after '^': the value is first.
  const match = pattern.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes] =
    match;

  let wall: Temporal.PlainDateTime;
  try {
    wall = Temporal.PlainDateTime.from(
      {
        year: Number(year),
        month: Number(month ?? 1),
        day: Number(day ?? 1),
        hour: Number(hour ?? 0),
        minute: Number(minute ?? 0),
        second: Number(second ?? 0),
        millisecond: fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0,
      },
      { overflow: 'reject' },
    );
  } catch {
    return undefined;
  }
  const precision = fraction
    ? 'fraction'
    : second
      ? 'second'
      : minute
        ? 'minute'
        : hour
          ? 'hour'
          : day
            ? 'day'
            : month
              ? 'month'
              : 'year';

  const offset = sign
    ? `${sign}${offsetHours}:${offsetMinutes ?? '00'}`
    : normalizeOffset(defaults.offset);
  if (sign && (Number(offsetHours) > 14 || Number(offsetMinutes ?? 0) > 59)) return undefined;

  // Temporal takes an offset such as "+02:15" as a time zone; Date.UTC would read years
  // below 100 as 19xx.
  const epochMs = wall.toZonedDateTime(offset ?? defaults.timeZone, {
    disambiguation: 'compatible',
  }).epochMilliseconds;
  return { at: new Date(epochMs), precision, explicitOffset: sign !== undefined };
}

/** The offset of an HL7 timestamp, if it has one (to serve as the message's default). */
export function timestampOffset(text: string): string | undefined {
  const match = pattern.exec(text.trim());
  return match?.[8] ? `${match[8]}${match[9]}${match[10] ?? '00'}` : undefined;
}

function normalizeOffset(offset: string | undefined): string | undefined {
  if (!offset) return undefined;
  const match = offsetPattern.exec(offset.trim());
  return match ? `${match[1]}${match[2]}:${match[3] ?? '00'}` : undefined;
}

/** A birth date (PID-7) as YYYY-MM-DD, or undefined when it is not a plausible date. */
export function parseHl7Date(text: string, today: Date): string | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(text.trim());
  if (!match) return undefined;
  try {
    const date = Temporal.PlainDate.from(
      { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) },
      { overflow: 'reject' },
    );
    // A birth year before 1850 or in the future is a typo, not a patient.
    if (date.year < 1850 || date.toString() > today.toISOString().slice(0, 10)) return undefined;
    return date.toString();
  } catch {
    return undefined;
  }
}

/** Formats an instant as an HL7 timestamp in UTC with its offset (for ACKs we send). */
export function formatHl7Timestamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(
    14,
    16,
  )}${iso.slice(17, 19)}+0000`;
}
