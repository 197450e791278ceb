/**
 * Commands that change where patients lie and what state beds are in. Every source (UI, HL7,
 * FHIR, imports, replay) expresses itself in these; the state machine decides their effect.
 * `at` is the event time: when it happened in the hospital, not when it was recorded.
 */
export type AdtCommand =
  | { type: 'admit'; encounterId: string; bedId: number; at: Date }
  | { type: 'transfer'; encounterId: string; bedId: number; at: Date }
  | { type: 'discharge'; encounterId: string; at: Date }
  | { type: 'cancel-admit'; encounterId: string; at: Date }
  | { type: 'cancel-transfer'; encounterId: string; at: Date }
  | { type: 'cancel-discharge'; encounterId: string; at: Date }
  | { type: 'swap'; encounterId: string; otherEncounterId: string; at: Date };

export type BedCommand =
  | { type: 'cleaning-started'; bedId: number; at: Date }
  | { type: 'cleaning-finished'; bedId: number; at: Date }
  | { type: 'block'; bedId: number; reason: string; at: Date }
  | { type: 'unblock'; bedId: number; at: Date }
  | { type: 'reserve'; bedId: number; encounterId: string; at: Date }
  | { type: 'release'; bedId: number; at: Date }
  | { type: 'set-isolation'; bedId: number; isolation: boolean; at: Date };

export type Command = AdtCommand | BedCommand;
export type CommandType = Command['type'];

export const adtCommandTypes = [
  'admit',
  'transfer',
  'discharge',
  'cancel-admit',
  'cancel-transfer',
  'cancel-discharge',
  'swap',
] as const satisfies readonly AdtCommand['type'][];

export const bedCommandTypes = [
  'cleaning-started',
  'cleaning-finished',
  'block',
  'unblock',
  'reserve',
  'release',
  'set-isolation',
] as const satisfies readonly BedCommand['type'][];

/** How strictly a command is checked, by where it comes from. */
export interface DecideOptions {
  /** The clock of the caller: live commands may not be dated much after it. */
  now: Date;
  /**
   * Live commands (UI, live HL7) may be at most this far in the future; history imports pass
   * `Infinity` because MIMIC's shifted dates lie in 2110–2201.
   */
  maxFutureMs: number;
  /**
   * Feeds and history are authoritative about where a patient lies: they may put a patient in
   * a bed that has not been cleaned yet. People using the UI may not.
   */
  allowUncleanedBed: boolean;
}

export const liveCommandOptions = (now: Date): DecideOptions => ({
  now,
  maxFutureMs: 5 * 60_000,
  allowUncleanedBed: false,
});

export const historyCommandOptions = (now: Date): DecideOptions => ({
  now,
  maxFutureMs: Number.POSITIVE_INFINITY,
  allowUncleanedBed: true,
});
