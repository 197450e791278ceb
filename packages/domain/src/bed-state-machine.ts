import { BedStatus } from './bed-status.ts';
import type { Command, DecideOptions } from './commands.ts';
import { ErrorCode, MedaxisError } from './errors.ts';
import {
  currentStay,
  EncounterStatus,
  StayEndReason,
  type BedState,
  type Change,
  type EncounterState,
  type StayState,
  type World,
} from './state.ts';

/**
 * Decides what a command changes, or throws a MedaxisError saying why it cannot apply.
 * Pure: the same world and command always give the same changes, and nothing is written.
 */
export function decide(world: World, command: Command, options: DecideOptions): Change[] {
  checkEventTime(command.at, options);

  switch (command.type) {
    case 'admit':
      return decideAdmit(world, command.encounterId, command.bedId, command.at, options);
    case 'transfer':
      return decideTransfer(world, command.encounterId, command.bedId, command.at, options);
    case 'discharge':
      return decideDischarge(world, command.encounterId, command.at);
    case 'cancel-admit':
      return decideCancelAdmit(world, command.encounterId, command.at);
    case 'cancel-transfer':
      return decideCancelTransfer(world, command.encounterId, command.at);
    case 'cancel-discharge':
      return decideCancelDischarge(world, command.encounterId, command.at);
    case 'swap':
      return decideSwap(world, command.encounterId, command.otherEncounterId, command.at);
    case 'cleaning-started':
      return decideBedStatus(world, command.bedId, command.at, BedStatus.cleaning, null, [
        BedStatus.housekeeping,
      ]);
    case 'cleaning-finished':
      return decideBedStatus(world, command.bedId, command.at, BedStatus.free, null, [
        BedStatus.housekeeping,
        BedStatus.cleaning,
      ]);
    case 'block':
      return decideBlock(world, command.bedId, command.reason, command.at);
    case 'unblock':
      return decideUnblock(world, command.bedId, command.at);
    case 'reserve':
      return decideReserve(world, command.bedId, command.encounterId, command.at);
    case 'release':
      return decideBedStatus(world, command.bedId, command.at, BedStatus.free, null, [
        BedStatus.reserved,
      ]);
    case 'set-isolation':
      return decideIsolation(world, command.bedId, command.isolation, command.at);
  }
}

function decideAdmit(
  world: World,
  encounterId: string,
  bedId: number,
  at: Date,
  options: DecideOptions,
): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const bed = requireBed(world, bedId);
  if (encounter.status === EncounterStatus.finished) {
    throw conflict('encounter_finished', `Encounter ${encounterId} is already discharged.`);
  }
  if (encounter.status === EncounterStatus.cancelled) {
    throw conflict('encounter_cancelled', `Encounter ${encounterId} was cancelled.`);
  }
  const stay = currentStay(encounter);
  if (stay) {
    throw conflict(
      'already_admitted',
      `Encounter ${encounterId} already lies in bed ${stay.bedId}: transfer it instead.`,
    );
  }
  checkNotBefore(at, encounter.stays.at(-1)?.endAt, 'the end of its previous stay');
  checkBedTakes(bed, encounterId, at, options);

  return [
    { kind: 'open-stay', encounterId, bedId, at },
    occupy(bed, encounterId, at),
    {
      kind: 'update-encounter',
      encounterId,
      status: EncounterStatus.inProgress,
      admittedAt: encounter.admittedAt ?? at,
      dischargedAt: null,
    },
  ];
}

function decideTransfer(
  world: World,
  encounterId: string,
  bedId: number,
  at: Date,
  options: DecideOptions,
): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const stay = requireCurrentStay(encounter);
  if (stay.bedId === bedId) {
    throw conflict('same_bed', `Encounter ${encounterId} already lies in bed ${bedId}.`);
  }
  const from = requireBed(world, stay.bedId);
  const to = requireBed(world, bedId);
  checkNotBefore(at, stay.startAt, 'the start of its current stay');
  // The bed's status can start after the stay: a cancel that found the bed cleaned put the
  // patient back only from then on (reoccupy). Vacating before that would run history back.
  checkNotBefore(at, from.since, `the current status of bed ${from.id}`);
  checkBedTakes(to, encounterId, at, options);

  return [
    { kind: 'close-stay', stayId: stay.id, at, reason: StayEndReason.transfer },
    vacate(from, at),
    { kind: 'open-stay', encounterId, bedId, at },
    occupy(to, encounterId, at),
  ];
}

function decideDischarge(world: World, encounterId: string, at: Date): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const stay = requireCurrentStay(encounter);
  const bed = requireBed(world, stay.bedId);
  checkNotBefore(at, stay.startAt, 'the start of its current stay');
  // As for a transfer: the bed may be occupied only since a later cancel (reoccupy).
  checkNotBefore(at, bed.since, `the current status of bed ${bed.id}`);

  return [
    { kind: 'close-stay', stayId: stay.id, at, reason: StayEndReason.discharge },
    vacate(bed, at),
    {
      kind: 'update-encounter',
      encounterId,
      status: EncounterStatus.finished,
      admittedAt: encounter.admittedAt,
      dischargedAt: at,
    },
  ];
}

function decideCancelAdmit(world: World, encounterId: string, at: Date): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const stay = requireCurrentStay(encounter);
  if (encounter.stays.length > 1) {
    throw conflict(
      'moved_since_admit',
      `Encounter ${encounterId} was transferred after admission: cancel the transfer first.`,
    );
  }
  const bed = requireBed(world, stay.bedId);
  checkNotBefore(at, stay.startAt, 'the admission');

  return [
    { kind: 'cancel-stay', stayId: stay.id },
    restoreBedBefore(bed, encounterId),
    // A11 says the admission did not happen: the encounter is pending again, as before the
    // admit, so the corrected A01 that usually follows applies. NOTE: an encounter already in
    // progress before it got a bed (a registered ED visit) comes back planned; restoring it
    // exactly needs its pre-admit status, which neither World nor the encounter row keeps.
    {
      kind: 'update-encounter',
      encounterId,
      status: EncounterStatus.planned,
      admittedAt: null,
      dischargedAt: null,
    },
  ];
}

function decideCancelTransfer(world: World, encounterId: string, at: Date): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const stay = requireCurrentStay(encounter);
  const previous = encounter.stays.at(-2);
  if (!previous || previous.endReason !== StayEndReason.transfer) {
    throw conflict('no_transfer', `Encounter ${encounterId} has no transfer to cancel.`);
  }
  const to = requireBed(world, stay.bedId);
  const from = requireBed(world, previous.bedId);
  checkNotBefore(at, stay.startAt, 'the transfer');

  return [
    { kind: 'cancel-stay', stayId: stay.id },
    restoreBedBefore(to, encounterId),
    { kind: 'reopen-stay', stayId: previous.id },
    reoccupy(from, encounterId, previous, at),
  ];
}

function decideCancelDischarge(world: World, encounterId: string, at: Date): Change[] {
  const encounter = requireEncounter(world, encounterId);
  const last = encounter.stays.at(-1);
  if (encounter.status !== EncounterStatus.finished || last?.endReason !== 'discharge') {
    throw conflict('not_discharged', `Encounter ${encounterId} has no discharge to cancel.`);
  }
  const bed = requireBed(world, last.bedId);
  checkNotBefore(at, last.endAt, 'the discharge');

  return [
    { kind: 'reopen-stay', stayId: last.id },
    reoccupy(bed, encounterId, last, at),
    {
      kind: 'update-encounter',
      encounterId,
      status: EncounterStatus.inProgress,
      admittedAt: encounter.admittedAt,
      dischargedAt: null,
    },
  ];
}

function decideSwap(world: World, encounterId: string, otherId: string, at: Date): Change[] {
  if (encounterId === otherId) {
    throw invalid('same_encounter', 'A swap needs two different encounters.');
  }
  const first = requireCurrentStay(requireEncounter(world, encounterId));
  const second = requireCurrentStay(requireEncounter(world, otherId));
  const firstBed = requireBed(world, first.bedId);
  const secondBed = requireBed(world, second.bedId);
  checkNotBefore(at, first.startAt, 'the start of the first stay');
  checkNotBefore(at, second.startAt, 'the start of the second stay');
  checkNotBefore(at, firstBed.since, `the current status of bed ${firstBed.id}`);
  checkNotBefore(at, secondBed.since, `the current status of bed ${secondBed.id}`);

  return [
    { kind: 'close-stay', stayId: first.id, at, reason: StayEndReason.swap },
    { kind: 'close-stay', stayId: second.id, at, reason: StayEndReason.swap },
    { kind: 'open-stay', encounterId, bedId: secondBed.id, at },
    { kind: 'open-stay', encounterId: otherId, bedId: firstBed.id, at },
    occupy(secondBed, encounterId, at),
    occupy(firstBed, otherId, at),
  ];
}

function decideBlock(world: World, bedId: number, reason: string, at: Date): Change[] {
  if (reason.trim() === '') {
    throw invalid('reason_required', 'Blocking a bed needs a reason.');
  }
  return decideBedStatus(world, bedId, at, BedStatus.blocked, reason.trim(), [
    BedStatus.free,
    BedStatus.housekeeping,
    BedStatus.cleaning,
  ]);
}

/**
 * An unblocked bed goes back to free only if it was clean when it was blocked: a bed blocked
 * while waiting for or under housekeeping still needs cleaning afterwards.
 */
function decideUnblock(world: World, bedId: number, at: Date): Change[] {
  const before = requireBed(world, bedId).history.at(-1)?.status;
  const needsCleaning = before === BedStatus.housekeeping || before === BedStatus.cleaning;
  return decideBedStatus(
    world,
    bedId,
    at,
    needsCleaning ? BedStatus.housekeeping : BedStatus.free,
    null,
    [BedStatus.blocked],
  );
}

function decideReserve(world: World, bedId: number, encounterId: string, at: Date): Change[] {
  const encounter = requireEncounter(world, encounterId);
  if (encounter.status === EncounterStatus.finished) {
    throw conflict('encounter_finished', `Encounter ${encounterId} is already discharged.`);
  }
  if (encounter.status === EncounterStatus.cancelled) {
    throw conflict('encounter_cancelled', `Encounter ${encounterId} was cancelled.`);
  }
  if (currentStay(encounter)?.bedId === bedId) {
    throw conflict('same_bed', `Encounter ${encounterId} already lies in bed ${bedId}.`);
  }
  const bed = requireBed(world, bedId);
  checkTransition(bed, BedStatus.reserved, [BedStatus.free]);
  checkNotBefore(at, bed.since, `the current status of bed ${bed.id}`);

  return [
    {
      kind: 'set-bed-status',
      bedId,
      status: BedStatus.reserved,
      reason: null,
      encounterId,
      at,
    },
  ];
}

function decideIsolation(world: World, bedId: number, isolation: boolean, at: Date): Change[] {
  const bed = requireBed(world, bedId);
  checkNotBefore(at, bed.since, `the current status of bed ${bed.id}`);
  if (bed.isolation === isolation) {
    throw conflict('no_change', `Bed ${bedId} is already ${isolation ? '' : 'not '}isolated.`);
  }
  return [{ kind: 'set-isolation', bedId, isolation }];
}

function decideBedStatus(
  world: World,
  bedId: number,
  at: Date,
  status: BedStatus,
  reason: string | null,
  allowedFrom: readonly BedStatus[],
): Change[] {
  const bed = requireBed(world, bedId);
  checkTransition(bed, status, allowedFrom);
  checkNotBefore(at, bed.since, `the current status of bed ${bed.id}`);
  return [{ kind: 'set-bed-status', bedId, status, reason, encounterId: null, at }];
}

// ---- effects on beds -------------------------------------------------------------------------

function occupy(bed: BedState, encounterId: string, at: Date): Change {
  return {
    kind: 'set-bed-status',
    bedId: bed.id,
    status: BedStatus.occupied,
    reason: null,
    encounterId,
    at,
  };
}

/** A bed a patient leaves goes to housekeeping, never straight to free. */
function vacate(bed: BedState, at: Date): Change {
  return {
    kind: 'set-bed-status',
    bedId: bed.id,
    status: BedStatus.housekeeping,
    reason: null,
    encounterId: null,
    at,
  };
}

/** Undo the occupation of `bed` by `encounterId`: the interval before it comes back as it was. */
function restoreBedBefore(bed: BedState, encounterId: string): Change {
  if (bed.status !== BedStatus.occupied || bed.encounterId !== encounterId) {
    throw conflict('bed_changed', `Bed ${bed.id} no longer holds encounter ${encounterId}.`);
  }
  if (bed.history.length === 0) {
    throw conflict('bed_changed', `Bed ${bed.id} has no earlier status to restore.`);
  }
  return { kind: 'restore-bed-status', bedId: bed.id };
}

/**
 * Put `encounterId` back into the bed it left by `stay`. When nothing happened to the bed
 * since (it is still in the housekeeping interval the departure opened), that interval is
 * dropped, so the bed is exactly as before. When housekeeping has moved on but no one else
 * took the bed, the patient is back from now on; anything else is a conflict.
 */
function reoccupy(bed: BedState, encounterId: string, stay: StayState, at: Date): Change {
  const previous = bed.history.at(-1);
  const untouched =
    bed.status === BedStatus.housekeeping &&
    stay.endAt !== null &&
    bed.since.getTime() === stay.endAt.getTime() &&
    previous?.status === BedStatus.occupied &&
    previous.encounterId === encounterId;
  if (untouched) {
    return { kind: 'restore-bed-status', bedId: bed.id };
  }
  const reusable: readonly BedStatus[] = [
    BedStatus.housekeeping,
    BedStatus.cleaning,
    BedStatus.free,
  ];
  // Another patient may have come and gone meanwhile; the stay we reopen would overlap theirs.
  // Only the history at hand is checked here: the exclusion constraint on bed_stay is the
  // backstop for what a partial history cannot show.
  const usedSince = [...bed.history, bed].some(
    (interval) =>
      interval.status === BedStatus.occupied &&
      stay.endAt !== null &&
      interval.since.getTime() >= stay.endAt.getTime(),
  );
  if (!reusable.includes(bed.status) || usedSince) {
    throw conflict(
      'bed_taken',
      `Bed ${bed.id} was taken since: encounter ${encounterId} cannot return to it.`,
    );
  }
  return occupy(bed, encounterId, at.getTime() < bed.since.getTime() ? bed.since : at);
}

// ---- checks ----------------------------------------------------------------------------------

/**
 * Whether the bed can take the patient at `at`. Its status is checked before the time: a bed
 * another patient took a moment later is "occupied" to the caller, not "too early".
 */
function checkBedTakes(bed: BedState, encounterId: string, at: Date, options: DecideOptions) {
  checkBedStatusTakes(bed, encounterId, options);
  checkNotBefore(at, bed.since, `the current status of bed ${bed.id}`);
}

function checkBedStatusTakes(bed: BedState, encounterId: string, options: DecideOptions) {
  switch (bed.status) {
    case BedStatus.free:
      return;
    case BedStatus.reserved:
      if (bed.encounterId === encounterId) return;
      throw conflict('bed_reserved', `Bed ${bed.id} is reserved for another patient.`);
    case BedStatus.housekeeping:
    case BedStatus.cleaning:
      if (options.allowUncleanedBed) return;
      throw conflict('bed_not_clean', `Bed ${bed.id} is waiting for housekeeping.`);
    case BedStatus.occupied:
      throw conflict('bed_occupied', `Bed ${bed.id} is occupied.`);
    case BedStatus.blocked:
      throw conflict('bed_blocked', `Bed ${bed.id} is blocked (${bed.reason ?? 'no reason'}).`);
  }
}

function checkTransition(bed: BedState, to: BedStatus, allowedFrom: readonly BedStatus[]) {
  if (!allowedFrom.includes(bed.status)) {
    throw conflict(
      `bed_${bed.status}`,
      `Bed ${bed.id} is ${bed.status}: it cannot become ${to}` +
        ` (only from ${allowedFrom.join(' or ')}).`,
    );
  }
}

function checkEventTime(at: Date, options: DecideOptions) {
  if (Number.isNaN(at.getTime())) {
    throw invalid('bad_time', 'The event time is not a valid instant.');
  }
  if (at.getTime() - options.now.getTime() > options.maxFutureMs) {
    throw new MedaxisError(
      ErrorCode.badEventTime,
      'future_event',
      `Event time ${at.toISOString()} is in the future.`,
    );
  }
}

/** Events are applied in event-time order; one dated before the state it changes is refused. */
function checkNotBefore(at: Date, floor: Date | null | undefined, what: string) {
  if (floor && at.getTime() < floor.getTime()) {
    throw new MedaxisError(
      ErrorCode.badEventTime,
      'before_current_state',
      `Event time ${at.toISOString()} is before ${what} (${floor.toISOString()}).`,
    );
  }
}

function requireBed(world: World, bedId: number): BedState {
  const bed = world.beds.get(bedId);
  if (!bed) throw new MedaxisError(ErrorCode.notFound, 'unknown_bed', `No bed ${bedId}.`);
  return bed;
}

function requireEncounter(world: World, encounterId: string): EncounterState {
  const encounter = world.encounters.get(encounterId);
  if (!encounter) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_encounter', `No encounter ${encounterId}.`);
  }
  return encounter;
}

function requireCurrentStay(encounter: EncounterState): StayState {
  const stay = currentStay(encounter);
  if (!stay) {
    throw conflict('not_in_bed', `Encounter ${encounter.id} is not in a bed.`);
  }
  return stay;
}

function conflict(reason: string, message: string) {
  return new MedaxisError(ErrorCode.conflict, reason, message);
}

function invalid(reason: string, message: string) {
  return new MedaxisError(ErrorCode.validation, reason, message);
}
