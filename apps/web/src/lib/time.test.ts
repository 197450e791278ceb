import { describe, expect, it } from 'vitest';

import {
  dateKey,
  formatAgo,
  formatClock,
  formatInstant,
  formatTimer,
  zoneAbbreviation,
} from './time.ts';

const minute = 60_000;
const hour = 60 * minute;

describe('bed timers', () => {
  it('reads under a minute as <1m rather than counting seconds', () => {
    expect(formatTimer(59_000)).toBe('<1m');
  });

  it('reads minutes, then hours and minutes, then days and hours', () => {
    expect(formatTimer(4 * minute)).toBe('4m');
    expect(formatTimer(2 * hour + 5 * minute)).toBe('2h 05m');
    expect(formatTimer(3 * 24 * hour + 7 * hour + 59 * minute)).toBe('3d 7h');
  });

  it('never shows a negative time when the clocks disagree', () => {
    expect(formatTimer(-5_000)).toBe('<1m');
  });
});

describe('time since last heard', () => {
  it('counts seconds under a minute, then minutes, then hours', () => {
    expect(formatAgo(4_400)).toBe('4 s');
    expect(formatAgo(45_000)).toBe('45 s');
    expect(formatAgo(3 * minute + 20_000)).toBe('3 min');
    expect(formatAgo(2 * hour + 5 * minute)).toBe('2 h 5 min');
  });
});

describe('site time zone', () => {
  it('shows the clock in the site zone, 24-hour', () => {
    expect(formatClock(Date.parse('2026-12-03T13:02:11Z'), 'Europe/Paris')).toBe('14:02:11');
    expect(formatClock(Date.parse('2026-12-03T23:59:59Z'), 'UTC')).toBe('23:59:59');
  });

  it('takes the calendar day from the site zone', () => {
    const instant = Date.parse('2026-12-03T23:30:00Z');
    expect(dateKey(instant, 'UTC')).toBe('2026-12-03');
    expect(dateKey(instant, 'Europe/Paris')).toBe('2026-12-04');
    expect(dateKey(instant, 'America/New_York')).toBe('2026-12-03');
  });
});

describe('instants on the working pages', () => {
  it('reads an instant in the site zone, not the browser zone (a reported fault)', () => {
    // 03:30 UTC is still the evening before in New York.
    const iso = '2026-12-04T03:30:05Z';
    expect(formatInstant(iso, 'America/New_York')).toBe('2026-12-03 22:30:05');
    expect(formatInstant(iso, 'UTC')).toBe('2026-12-04 03:30:05');
    expect(formatInstant(iso, 'Asia/Tokyo')).toBe('2026-12-04 12:30:05');
  });

  it('follows daylight saving time', () => {
    expect(formatInstant('2026-07-01T12:00:00Z', 'America/New_York')).toBe('2026-07-01 08:00:00');
    expect(formatInstant('2026-01-01T12:00:00Z', 'America/New_York')).toBe('2026-01-01 07:00:00');
  });

  it('reads midnight as 00, never 24', () => {
    expect(formatInstant('2026-12-04T05:00:00Z', 'America/New_York')).toBe('2026-12-04 00:00:00');
  });

  it('shows a dash for no instant and passes text that is no instant through', () => {
    expect(formatInstant(null, 'UTC')).toBe('—');
    expect(formatInstant('soon', 'UTC')).toBe('soon');
  });

  it('names the zone as people know it, standard or summer time', () => {
    expect(zoneAbbreviation(Date.parse('2026-01-15T12:00:00Z'), 'America/New_York')).toBe('EST');
    expect(zoneAbbreviation(Date.parse('2026-07-15T12:00:00Z'), 'America/New_York')).toBe('EDT');
    expect(zoneAbbreviation(Date.parse('2026-07-15T12:00:00Z'), 'UTC')).toBe('UTC');
  });
});
