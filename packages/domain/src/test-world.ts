/**
 * Factories for the domain's tests: small worlds, fixed instants, a deterministic stay id
 * generator. Not exported from the package.
 */
import { BedStatus } from './bed-status.ts';
import type { Command, DecideOptions } from './commands.ts';
import { historyCommandOptions, liveCommandOptions } from './commands.ts';
import { applyChanges } from './apply.ts';
import { decide } from './bed-state-machine.ts';
import { MedaxisError } from './errors.ts';
import {
  EncounterStatus,
  type BedState,
  type EncounterState,
  type StayState,
  type World,
} from './state.ts';

/** Monday 2 March 2026, 08:00 UTC: the instant every test world starts from. */
export const T0 = new Date('2026-03-02T08:00:00.000Z');

/** The instant `n` minutes after T0 (before it when negative). */
export function minutes(n: number): Date {
  return new Date(T0.getTime() + n * 60_000);
}

/** Live options with a clock far enough ahead that no test event is in the future. */
export const live = liveCommandOptions(minutes(24 * 60));
export const history = historyCommandOptions(minutes(24 * 60));

export function freeBed(id: number, overrides: Partial<BedState> = {}): BedState {
  return {
    id,
    status: BedStatus.free,
    since: minutes(-60),
    reason: null,
    encounterId: null,
    isolation: false,
    history: [],
    ...overrides,
  };
}

export function plannedEncounter(
  id: string,
  overrides: Partial<EncounterState> = {},
): EncounterState {
  return {
    id,
    status: EncounterStatus.planned,
    admittedAt: null,
    dischargedAt: null,
    stays: [],
    ...overrides,
  };
}

export function worldOf(beds: readonly BedState[], encounters: readonly EncounterState[]): World {
  return {
    beds: new Map(beds.map((bed) => [bed.id, bed])),
    encounters: new Map(encounters.map((encounter) => [encounter.id, encounter])),
  };
}

/**
 * Stay ids s1, s2, ... in order of opening, so the same commands always give the same ids.
 * Given a world, it continues after the highest sN id the world holds.
 */
export function stayIdGenerator(after?: World): () => string {
  let next = 0;
  for (const stay of after ? allStays(after) : []) {
    next = Math.max(next, Number(/^s(\d+)$/.exec(stay.id)?.[1] ?? 0));
  }
  return () => `s${++next}`;
}

/** Decides and applies commands one after the other; throws at the first refusal. */
export function play(
  world: World,
  commands: readonly Command[],
  options: DecideOptions = live,
  newStayId: () => string = stayIdGenerator(world),
): World {
  return commands.reduce(
    (current, command) => applyChanges(current, decide(current, command, options), newStayId),
    world,
  );
}

/** The MedaxisError `decide` throws for a command; fails the test when it accepts it. */
export function refusal(world: World, command: Command, options: DecideOptions = live) {
  try {
    decide(world, command, options);
  } catch (error) {
    if (error instanceof MedaxisError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error(`expected ${command.type} to be refused`);
}

export function bedOf(world: World, bedId: number): BedState {
  const bed = world.beds.get(bedId);
  if (!bed) throw new Error(`test world has no bed ${bedId}`);
  return bed;
}

export function encounterOf(world: World, encounterId: string): EncounterState {
  const encounter = world.encounters.get(encounterId);
  if (!encounter) throw new Error(`test world has no encounter ${encounterId}`);
  return encounter;
}

export function allStays(world: World): StayState[] {
  return [...world.encounters.values()].flatMap((encounter) => encounter.stays);
}
