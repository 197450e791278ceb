import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { applyChanges } from './apply.ts';
import { decide } from './bed-state-machine.ts';
import { BedStatus, holdsEncounter } from './bed-status.ts';
import { lengthOfStayMs, occupancyRate, stayCovers } from './census.ts';
import {
  historyCommandOptions,
  liveCommandOptions,
  type Command,
  type CommandType,
  type DecideOptions,
} from './commands.ts';
import { ErrorCode, MedaxisError } from './errors.ts';
import {
  currentStay,
  EncounterStatus,
  type BedState,
  type StayState,
  type World,
} from './state.ts';
import {
  allStays,
  bedOf,
  encounterOf,
  freeBed,
  minutes,
  plannedEncounter,
  stayIdGenerator,
  worldOf,
} from './test-world.ts';

// A small hospital keeps collisions frequent: 4 beds, 5 encounters.
const bedIds = [1, 2, 3, 4];
const encounterIds = ['e1', 'e2', 'e3', 'e4', 'e5'];
const anyBed = [...bedIds, 99];
const anyEncounter = [...encounterIds, 'e-unknown'];
const errorCodes: readonly string[] = Object.values(ErrorCode);
const runs = { numRuns: 1000 };
const timeoutMs = 60_000;

/** How often each command comes up; patient movements dominate, as on a real ward. */
const commandWeights = {
  admit: 5,
  transfer: 4,
  discharge: 4,
  'cancel-admit': 2,
  'cancel-transfer': 2,
  'cancel-discharge': 2,
  swap: 1,
  'cleaning-started': 3,
  'cleaning-finished': 3,
  block: 1,
  unblock: 1,
  reserve: 2,
  release: 1,
  'set-isolation': 1,
} as const satisfies Record<CommandType, number>;

const commandType = fc.oneof(
  ...Object.entries(commandWeights).map(([type, weight]) => ({
    weight,
    arbitrary: fc.constant(type as CommandType),
  })),
);

/**
 * One step of a scenario. The encounter and bed it names are resolved against the world when
 * the step runs: a targeted step picks among those the command could apply to (a patient in a
 * bed for a transfer, a bed in housekeeping for cleaning), so most steps are accepted and
 * scenarios get deep; an untargeted one picks any id, unknown ones included.
 * Its time is some minutes after the latest accepted event, sometimes before it, as late feeds
 * send; now and then it is dated beyond what a live command may be.
 */
const step = fc.record({
  type: commandType,
  targeted: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, fc.constant(false)),
  encounterPick: fc.nat(),
  otherPick: fc.nat(),
  bedPick: fc.nat(),
  blockReason: fc.constantFrom('maintenance', 'broken rail', '', '   '),
  isolation: fc.boolean(),
  offsetMinutes: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 120 }) },
    { weight: 1, arbitrary: fc.integer({ min: -90, max: -1 }) },
  ),
  source: fc.constantFrom('live', 'history'),
  datedAheadMinutes: fc.oneof(
    { weight: 14, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
    { weight: 1, arbitrary: fc.integer({ min: 11, max: 200 * 365 * 24 * 60 }) },
  ),
  cancelGapMinutes: fc.integer({ min: 0, max: 30 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

const steps = fc.array(step, { minLength: 1, maxLength: 80, size: 'max' });

const initialWorld = fc
  .array(
    fc.record({
      status: fc.constantFrom(
        BedStatus.free,
        BedStatus.free,
        BedStatus.housekeeping,
        BedStatus.blocked,
      ),
      isolation: fc.boolean(),
    }),
    { minLength: bedIds.length, maxLength: bedIds.length },
  )
  .map((beds) =>
    worldOf(
      beds.map((bed, index) =>
        freeBed(index + 1, {
          ...bed,
          reason: bed.status === BedStatus.blocked ? 'maintenance' : null,
        }),
      ),
      encounterIds.map((id) => plannedEncounter(id)),
    ),
  );

function pick<T>(candidates: readonly T[], fallback: readonly T[], index: number): T {
  const list = candidates.length > 0 ? candidates : fallback;
  return list[index % list.length] as T;
}

/** The encounters, and the beds for a given encounter, a command could apply to. */
function candidatesFor(world: World, step: Step) {
  const encounters = [...world.encounters.values()];
  const inBed = encounters.filter((e) => currentStay(e)).map((e) => e.id);
  const waiting = encounters
    .filter((e) => !currentStay(e) && e.status === EncounterStatus.planned)
    .map((e) => e.id);
  const bedsIn =
    (...statuses: BedStatus[]) =>
    (_encounterId: string) =>
      [...world.beds.values()].filter((bed) => statuses.includes(bed.status)).map((b) => b.id);
  const takers = (encounterId: string) =>
    [...world.beds.values()]
      .filter((bed: BedState) => {
        if (bed.status === BedStatus.reserved) return bed.encounterId === encounterId;
        if (bed.status === BedStatus.free) return true;
        const uncleaned =
          bed.status === BedStatus.housekeeping || bed.status === BedStatus.cleaning;
        return uncleaned && step.source === 'history';
      })
      .map((bed) => bed.id);
  const none = () => [];

  switch (step.type) {
    case 'admit':
      return { encounters: waiting, beds: takers };
    case 'transfer':
      return { encounters: inBed, beds: takers };
    case 'discharge':
    case 'cancel-admit':
    case 'cancel-transfer':
    case 'swap':
      return { encounters: inBed, beds: none };
    case 'cancel-discharge': {
      const finished = encounters.filter((e) => e.status === EncounterStatus.finished);
      return { encounters: finished.map((e) => e.id), beds: none };
    }
    case 'cleaning-started':
      return { encounters: [], beds: bedsIn(BedStatus.housekeeping) };
    case 'cleaning-finished':
      return { encounters: [], beds: bedsIn(BedStatus.housekeeping, BedStatus.cleaning) };
    case 'block':
      return {
        encounters: [],
        beds: bedsIn(BedStatus.free, BedStatus.housekeeping, BedStatus.cleaning),
      };
    case 'unblock':
      return { encounters: [], beds: bedsIn(BedStatus.blocked) };
    case 'reserve':
      return { encounters: [...waiting, ...inBed], beds: bedsIn(BedStatus.free) };
    case 'release':
      return { encounters: [], beds: bedsIn(BedStatus.reserved) };
    case 'set-isolation':
      return { encounters: [], beds: none };
  }
}

function resolve(world: World, step: Step, at: Date): Command {
  const targets = step.targeted ? candidatesFor(world, step) : undefined;
  const encounterId = pick(targets?.encounters ?? [], anyEncounter, step.encounterPick);
  const otherEncounterId = pick(targets?.encounters ?? [], anyEncounter, step.otherPick);
  const bedId = pick(targets?.beds(encounterId) ?? [], anyBed, step.bedPick);

  switch (step.type) {
    case 'admit':
    case 'transfer':
    case 'reserve':
      return { type: step.type, encounterId, bedId, at };
    case 'discharge':
    case 'cancel-admit':
    case 'cancel-transfer':
    case 'cancel-discharge':
      return { type: step.type, encounterId, at };
    case 'swap':
      return { type: step.type, encounterId, otherEncounterId, at };
    case 'cleaning-started':
    case 'cleaning-finished':
    case 'unblock':
    case 'release':
      return { type: step.type, bedId, at };
    case 'block':
      return { type: step.type, bedId, reason: step.blockReason, at };
    case 'set-isolation':
      return { type: step.type, bedId, isolation: step.isolation, at };
  }
}

function optionsFor(source: Step['source'], now: Date): DecideOptions {
  return source === 'live' ? liveCommandOptions(now) : historyCommandOptions(now);
}

interface Accepted {
  step: Step;
  command: Command;
  before: World;
  after: World;
  /** The latest event time accepted so far, this command included. */
  latest: Date;
}

interface Checks {
  refused?: (error: unknown, command: Command, step: Step) => void;
  accepted?: (accepted: Accepted) => void;
  world?: (world: World, latest: Date) => void;
}

/**
 * Plays the steps from `start`: each command is decided and, when accepted, applied with one
 * deterministic stay id generator. Refused commands leave the world as it was.
 */
function runScenario(start: World, scenario: readonly Step[], checks: Checks) {
  const newStayId = stayIdGenerator();
  let world = start;
  let latest = minutes(0);
  checks.world?.(world, latest);

  for (const step of scenario) {
    const at = new Date(latest.getTime() + step.offsetMinutes * 60_000);
    const now = new Date(at.getTime() - step.datedAheadMinutes * 60_000);
    const command = resolve(world, step, at);

    let changes;
    try {
      changes = decide(world, command, optionsFor(step.source, now));
    } catch (error) {
      checks.refused?.(error, command, step);
      continue;
    }

    const before = world;
    world = applyChanges(before, changes, newStayId);
    latest = at.getTime() > latest.getTime() ? at : latest;
    checks.accepted?.({ step, command, before, after: world, latest });
    checks.world?.(world, latest);
  }
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Non-empty half-open intervals overlap; an empty one [t, t) overlaps nothing, as in tstzrange. */
function overlaps(a: StayState, b: StayState): boolean {
  const aEnd = a.endAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const bEnd = b.endAt?.getTime() ?? Number.POSITIVE_INFINITY;
  if (a.startAt.getTime() >= aEnd || b.startAt.getTime() >= bEnd) return false;
  return a.startAt.getTime() < bEnd && b.startAt.getTime() < aEnd;
}

function expectNoOverlap(stays: readonly StayState[], label: string) {
  stays.forEach((a, i) => {
    for (const b of stays.slice(i + 1)) {
      check(!overlaps(a, b), `${label}: stays ${a.id} and ${b.id} overlap`);
    }
  });
}

/** One patient per bed, one bed per patient, and the bed rows agree with the stays. */
function expectOnePatientPerBed(world: World) {
  const stays = allStays(world);

  for (const bed of world.beds.values()) {
    const label = `bed ${bed.id} (${bed.status})`;
    const openHere = stays.filter((stay) => stay.bedId === bed.id && stay.endAt === null);
    const occupied = bed.status === BedStatus.occupied;

    check(openHere.length === (occupied ? 1 : 0), `${label}: ${openHere.length} open stays`);
    if (occupied) {
      check(openHere[0]?.encounterId === bed.encounterId, `${label}: names another patient`);
    }
    check(
      (bed.encounterId !== null) === holdsEncounter(bed.status),
      `${label}: encounter ${bed.encounterId}`,
    );
    check(
      bed.encounterId === null || world.encounters.has(bed.encounterId),
      `${label}: names an unknown encounter`,
    );
    check(bed.status !== BedStatus.blocked || !!bed.reason?.trim(), `${label}: no reason`);
    expectNoOverlap(
      stays.filter((stay) => stay.bedId === bed.id),
      label,
    );
  }

  for (const encounter of world.encounters.values()) {
    const label = `encounter ${encounter.id} (${encounter.status})`;
    const open = encounter.stays.filter((stay) => stay.endAt === null);

    check(open.length <= 1, `${label}: ${open.length} open stays`);
    check(open[0] === currentStay(encounter), `${label}: its open stay is not the last one`);
    check(
      (open.length === 1) === (encounter.status === EncounterStatus.inProgress),
      `${label}: in progress iff in a bed`,
    );
    for (const stay of encounter.stays) {
      check(stay.encounterId === encounter.id, `${label}: holds stay ${stay.id} of another`);
      check(world.beds.has(stay.bedId), `${label}: stay ${stay.id} in an unknown bed`);
    }
    expectNoOverlap(encounter.stays, label);
  }
}

/** Stays and status intervals run forward; occupancy stays within 0 and the bed count. */
function expectSaneTimes(world: World, latest: Date) {
  const stays = allStays(world);

  for (const stay of stays) {
    // The raw difference: lengthOfStayMs clamps at 0 and would hide a stay that ends too early.
    const raw = (stay.endAt ?? latest).getTime() - stay.startAt.getTime();
    check(raw >= 0, `stay ${stay.id}: length ${raw} ms`);
    check(lengthOfStayMs(stay, latest) === raw, `stay ${stay.id}: lengthOfStayMs`);
  }
  for (const encounter of world.encounters.values()) {
    encounter.stays.slice(1).forEach((stay, i) => {
      const previous = encounter.stays[i];
      check(
        !previous || previous.startAt.getTime() <= stay.startAt.getTime(),
        `encounter ${encounter.id}: stays not oldest first`,
      );
    });
  }
  for (const bed of world.beds.values()) {
    // The database refuses a status interval that ends before it starts.
    const intervals = [...bed.history, bed];
    intervals.slice(1).forEach((interval, i) => {
      const previous = intervals[i];
      check(
        !previous || previous.since.getTime() <= interval.since.getTime(),
        `bed ${bed.id}: ${interval.status} since ${interval.since.toISOString()} after ` +
          `${previous?.status} since ${previous?.since.toISOString()}`,
      );
    });
  }

  const occupied = [...world.beds.values()].filter((bed) => bed.status === BedStatus.occupied);
  const rate = occupancyRate(occupied.length, world.beds.size);
  check(rate >= 0 && rate <= 1, `occupancy ${rate}`);
  const censusNow = stays.filter((stay) => stayCovers(stay, latest)).length;
  check(censusNow === occupied.length, `census ${censusNow} but ${occupied.length} occupied`);
  for (const instant of stays.flatMap((stay) => [stay.startAt, stay.endAt ?? stay.startAt])) {
    const census = stays.filter((stay) => stayCovers(stay, instant)).length;
    check(census <= world.beds.size, `census ${census} at ${instant.toISOString()}`);
  }
}

const cancelOf = {
  admit: 'cancel-admit',
  transfer: 'cancel-transfer',
  discharge: 'cancel-discharge',
} as const;

describe('bed state machine, under any sequence of commands', () => {
  it(
    'refuses only with a MedaxisError from the closed set of codes',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, {
            refused: (error, command) => {
              const known = error instanceof MedaxisError && errorCodes.includes(error.code);
              check(known, `${command.type} refused with ${String(error)}`);
            },
          }),
        ),
        runs,
      );
    },
    timeoutMs,
  );

  it(
    'refuses a live command dated more than 5 minutes ahead of its clock',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, {
            accepted: ({ step, command }) => {
              const late = step.source === 'live' && step.datedAheadMinutes > 5;
              check(!late, `live ${command.type} ${step.datedAheadMinutes} min ahead accepted`);
            },
          }),
        ),
        runs,
      );
    },
    timeoutMs,
  );

  it(
    'decides purely and applies without touching the world it was given',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, {
            accepted: ({ step, command, before }) => {
              const options = optionsFor(step.source, command.at);
              const snapshot = structuredClone(before);
              const changes = decide(before, command, options);
              expect(decide(before, command, options)).toStrictEqual(changes);
              applyChanges(before, changes, stayIdGenerator());
              expect(before).toStrictEqual(snapshot);
            },
          }),
        ),
        // Cloning and comparing whole worlds is slow, and purity does not hide in rare paths.
        { numRuns: 300 },
      );
    },
    timeoutMs,
  );

  it(
    'never puts two patients in one bed, nor one patient in two beds',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, { world: expectOnePatientPerBed }),
        ),
        runs,
      );
    },
    timeoutMs,
  );

  it(
    'keeps lengths of stay and status intervals non-negative and occupancy within the beds',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, { world: expectSaneTimes }),
        ),
        runs,
      );
    },
    timeoutMs,
  );

  it(
    'sends a bed vacated by a transfer or discharge to housekeeping, never to free',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, {
            accepted: ({ command, before, after }) => {
              if (command.type !== 'transfer' && command.type !== 'discharge') return;
              const left = currentStay(encounterOf(before, command.encounterId))?.bedId ?? -1;
              expect(bedOf(after, left)).toMatchObject({
                status: BedStatus.housekeeping,
                since: command.at,
                encounterId: null,
              });
            },
          }),
        ),
        runs,
      );
    },
    timeoutMs,
  );

  it(
    'gives back exactly the world before when an admit, transfer or discharge is cancelled',
    () => {
      fc.assert(
        fc.property(initialWorld, steps, (start, scenario) =>
          runScenario(start, scenario, {
            accepted: ({ step, command, before, after }) => {
              if (
                command.type !== 'admit' &&
                command.type !== 'transfer' &&
                command.type !== 'discharge'
              ) {
                return;
              }
              const at = new Date(command.at.getTime() + step.cancelGapMinutes * 60_000);
              const cancel: Command = {
                type: cancelOf[command.type],
                encounterId: command.encounterId,
                at,
              };
              const changes = decide(after, cancel, optionsFor(step.source, at));
              const undone = applyChanges(after, changes, stayIdGenerator());
              expect(undone, `${cancel.type} after ${command.type}`).toStrictEqual(before);
            },
          }),
        ),
        runs,
      );
    },
    timeoutMs,
  );
});
