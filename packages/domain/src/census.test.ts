import { describe, expect, it } from 'vitest';

import { lengthOfStayMs, occupancyRate, stayCovers, type StayInterval } from './census.ts';

const at = (time: string) => new Date(`2026-03-02T${time}Z`);
const stay = (startAt: string, endAt: string | null): StayInterval => ({
  startAt: at(startAt),
  endAt: endAt === null ? null : at(endAt),
});

describe('census', () => {
  describe('stayCovers', () => {
    const morning = stay('08:00:00.000', '10:00:00.000');

    it('counts the patient from the first instant of the stay', () => {
      expect(stayCovers(morning, at('08:00:00.000'))).toBe(true);
      expect(stayCovers(morning, at('07:59:59.999'))).toBe(false);
    });

    it('no longer counts the patient at the instant the stay ends (half-open interval)', () => {
      expect(stayCovers(morning, at('09:59:59.999'))).toBe(true);
      expect(stayCovers(morning, at('10:00:00.000'))).toBe(false);
    });

    it('counts an open stay at every instant from its start on', () => {
      const open = stay('08:00:00.000', null);

      expect(stayCovers(open, at('07:59:59.999'))).toBe(false);
      expect(stayCovers(open, at('08:00:00.000'))).toBe(true);
      expect(stayCovers(open, new Date('2201-01-01T00:00:00Z'))).toBe(true);
    });

    it('never counts a stay that ended the instant it began', () => {
      const empty = stay('08:00:00.000', '08:00:00.000');

      expect(stayCovers(empty, at('08:00:00.000'))).toBe(false);
    });

    it('counts a transfer at 10:00 in the new bed from 10:00, in the old bed until then', () => {
      const oldBed = stay('08:00:00.000', '10:00:00.000');
      const newBed = stay('10:00:00.000', null);
      const census = (instant: string) =>
        [oldBed, newBed].map((interval) => stayCovers(interval, at(instant)));

      expect(census('09:59:59.999')).toStrictEqual([true, false]);
      expect(census('10:00:00.000')).toStrictEqual([false, true]);
    });
  });

  describe('lengthOfStayMs', () => {
    it('measures a closed stay from start to end, whatever now is', () => {
      const closed = stay('08:00:00.000', '10:30:00.000');

      expect(lengthOfStayMs(closed, at('23:00:00.000'))).toBe(150 * 60_000);
      expect(lengthOfStayMs(closed, at('00:00:00.000'))).toBe(150 * 60_000);
    });

    it('measures an open stay up to now', () => {
      expect(lengthOfStayMs(stay('08:00:00.000', null), at('09:15:00.000'))).toBe(75 * 60_000);
    });

    it('is 0 for a stay that ended the instant it began', () => {
      expect(lengthOfStayMs(stay('08:00:00.000', '08:00:00.000'), at('09:00:00.000'))).toBe(0);
    });

    it('is never negative, even for an open stay seen from before its start', () => {
      expect(lengthOfStayMs(stay('08:00:00.000', null), at('07:00:00.000'))).toBe(0);
    });
  });

  describe('occupancyRate', () => {
    it('is the share of beds occupied', () => {
      expect(occupancyRate(0, 4)).toBe(0);
      expect(occupancyRate(3, 4)).toBe(0.75);
      expect(occupancyRate(4, 4)).toBe(1);
    });

    it('is 0 rather than NaN when there are no beds', () => {
      expect(occupancyRate(0, 0)).toBe(0);
    });
  });
});
