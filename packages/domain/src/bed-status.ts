/** Operational status of a bed. Mirrors the `bed_status` enum of the database. */
export const BedStatus = {
  free: 'free',
  occupied: 'occupied',
  /** Vacated and waiting for housekeeping: a bed is never free straight after a patient. */
  housekeeping: 'housekeeping',
  /** Housekeeping in progress. */
  cleaning: 'cleaning',
  blocked: 'blocked',
  /** Held for an incoming patient (pending admission or transfer). */
  reserved: 'reserved',
} as const;
export type BedStatus = (typeof BedStatus)[keyof typeof BedStatus];

export const bedStatuses: readonly BedStatus[] = Object.values(BedStatus);

/** Statuses that hold an encounter: the bed row then names it. */
export function holdsEncounter(status: BedStatus): boolean {
  return status === BedStatus.occupied || status === BedStatus.reserved;
}

/**
 * HL7 v2 table 0116 (bed status) onto MedAxis. C (closed) and K (contaminated) become blocked
 * with the code's meaning as reason. I (isolated) is not a status here but the isolation flag,
 * because an isolated bed can be free or occupied.
 */
export function fromHl7BedStatus(
  code: string,
): { status: BedStatus; reason?: string } | { isolation: true } | undefined {
  switch (code.toUpperCase()) {
    case 'U':
      return { status: BedStatus.free };
    case 'O':
      return { status: BedStatus.occupied };
    case 'H':
      return { status: BedStatus.housekeeping };
    case 'C':
      return { status: BedStatus.blocked, reason: 'closed' };
    case 'K':
      return { status: BedStatus.blocked, reason: 'contaminated' };
    case 'I':
      return { isolation: true };
    default:
      return undefined;
  }
}
