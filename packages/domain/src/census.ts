/** A stay as an interval; `endAt` null means the patient is still there. */
export interface StayInterval {
  startAt: Date;
  endAt: Date | null;
}

/**
 * True when the stay covers the instant: stays are half-open [start, end), so a patient
 * transferred at 10:00 counts in the new bed at 10:00 and no longer in the old one.
 */
export function stayCovers(stay: StayInterval, at: Date): boolean {
  const t = at.getTime();
  return stay.startAt.getTime() <= t && (stay.endAt === null || t < stay.endAt.getTime());
}

/** Length of stay in milliseconds up to `now` for an open stay; never negative. */
export function lengthOfStayMs(stay: StayInterval, now: Date): number {
  const end = stay.endAt ?? now;
  return Math.max(0, end.getTime() - stay.startAt.getTime());
}

/** Occupancy as a fraction of staffed beds; 0 when there are no beds rather than NaN. */
export function occupancyRate(occupied: number, beds: number): number {
  return beds === 0 ? 0 : occupied / beds;
}
