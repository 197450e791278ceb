import type { BedStatus } from './bed-status.ts';

/** One closed or current interval of a bed's status. */
export interface BedStatusInterval {
  status: BedStatus;
  since: Date;
  reason: string | null;
  encounterId: string | null;
}

export interface BedState extends BedStatusInterval {
  id: number;
  isolation: boolean;
  /**
   * Earlier status intervals, most recent last. A cancel restores the last of them exactly.
   * Loaders from the database need only the last one.
   */
  history: readonly BedStatusInterval[];
}

export const StayEndReason = {
  transfer: 'transfer',
  discharge: 'discharge',
  swap: 'swap',
} as const;
export type StayEndReason = (typeof StayEndReason)[keyof typeof StayEndReason];

/** An encounter in a bed over [startAt, endAt); endAt null while the patient is there. */
export interface StayState {
  id: string;
  encounterId: string;
  bedId: number;
  startAt: Date;
  endAt: Date | null;
  endReason: StayEndReason | null;
}

export const EncounterStatus = {
  planned: 'planned',
  inProgress: 'in_progress',
  finished: 'finished',
  cancelled: 'cancelled',
} as const;
export type EncounterStatus = (typeof EncounterStatus)[keyof typeof EncounterStatus];

export interface EncounterState {
  id: string;
  status: EncounterStatus;
  admittedAt: Date | null;
  dischargedAt: Date | null;
  /** Stays that were not cancelled, oldest first. */
  stays: readonly StayState[];
}

/** The slice of the hospital a command needs: the beds and encounters it may touch. */
export interface World {
  beds: ReadonlyMap<number, BedState>;
  encounters: ReadonlyMap<string, EncounterState>;
}

/** The effect of a command, as row-level changes any store can apply. */
export type Change =
  | { kind: 'open-stay'; encounterId: string; bedId: number; at: Date }
  | { kind: 'close-stay'; stayId: string; at: Date; reason: StayEndReason }
  | { kind: 'reopen-stay'; stayId: string }
  | { kind: 'cancel-stay'; stayId: string }
  | {
      kind: 'set-bed-status';
      bedId: number;
      status: BedStatus;
      reason: string | null;
      encounterId: string | null;
      at: Date;
    }
  /** Drop the current status interval; the previous one becomes current again. */
  | { kind: 'restore-bed-status'; bedId: number }
  | { kind: 'set-isolation'; bedId: number; isolation: boolean }
  | {
      kind: 'update-encounter';
      encounterId: string;
      status: EncounterStatus;
      admittedAt: Date | null;
      dischargedAt: Date | null;
    };

export function currentStay(encounter: EncounterState): StayState | undefined {
  const last = encounter.stays.at(-1);
  return last && last.endAt === null ? last : undefined;
}
