import { describe, expect, it } from 'vitest';

import { applyChanges } from './apply.ts';
import { decide } from './bed-state-machine.ts';
import { BedStatus } from './bed-status.ts';
import {
  historyCommandOptions,
  liveCommandOptions,
  type Command,
  type CommandType,
} from './commands.ts';
import { ErrorCode } from './errors.ts';
import { EncounterStatus, type Change, type World } from './state.ts';
import {
  bedOf,
  encounterOf,
  freeBed,
  history,
  live,
  minutes,
  play,
  plannedEncounter,
  refusal,
  stayIdGenerator,
  worldOf,
} from './test-world.ts';

// Commands dated in minutes after T0, so scenarios read as a ward's timeline.
const admit = (encounterId: string, bedId: number, at: number): Command => ({
  type: 'admit',
  encounterId,
  bedId,
  at: minutes(at),
});
const transfer = (encounterId: string, bedId: number, at: number): Command => ({
  type: 'transfer',
  encounterId,
  bedId,
  at: minutes(at),
});
const discharge = (encounterId: string, at: number): Command => ({
  type: 'discharge',
  encounterId,
  at: minutes(at),
});
const cancel = (
  type: 'cancel-admit' | 'cancel-transfer' | 'cancel-discharge',
  encounterId: string,
  at: number,
): Command => ({ type, encounterId, at: minutes(at) });
const swap = (encounterId: string, otherEncounterId: string, at: number): Command => ({
  type: 'swap',
  encounterId,
  otherEncounterId,
  at: minutes(at),
});
const onBed = (
  type: 'cleaning-started' | 'cleaning-finished' | 'unblock' | 'release',
  bedId: number,
  at: number,
): Command => ({ type, bedId, at: minutes(at) });
const block = (bedId: number, reason: string, at: number): Command => ({
  type: 'block',
  bedId,
  reason,
  at: minutes(at),
});
const reserve = (bedId: number, encounterId: string, at: number): Command => ({
  type: 'reserve',
  bedId,
  encounterId,
  at: minutes(at),
});
const isolate = (bedId: number, isolation: boolean, at: number): Command => ({
  type: 'set-isolation',
  bedId,
  isolation,
  at: minutes(at),
});

const occupied = (bedId: number, encounterId: string, at: number): Change => ({
  kind: 'set-bed-status',
  bedId,
  status: BedStatus.occupied,
  reason: null,
  encounterId,
  at: minutes(at),
});
const vacated = (bedId: number, at: number): Change => ({
  kind: 'set-bed-status',
  bedId,
  status: BedStatus.housekeeping,
  reason: null,
  encounterId: null,
  at: minutes(at),
});

const conflict = (reason: string) => ({ code: ErrorCode.conflict, reason });
/** Dated before the state it would change. */
const tooEarly = { code: ErrorCode.badEventTime, reason: 'before_current_state' };

/** Beds 1–3 free, bed 4 blocked; encounters e1–e3 planned. Everything starts at T0 − 60 min. */
const ward: World = worldOf(
  [freeBed(1), freeBed(2), freeBed(3), freeBed(4, { status: BedStatus.blocked, reason: 'leak' })],
  [plannedEncounter('e1'), plannedEncounter('e2'), plannedEncounter('e3')],
);

/** e1 admitted to bed 1 at 0 (stay s1). */
const e1InBed1 = play(ward, [admit('e1', 1, 0)]);
/** e1 admitted to bed 1 at 0 (s1), transferred to bed 2 at 30 (s2). */
const e1MovedToBed2 = play(ward, [admit('e1', 1, 0), transfer('e1', 2, 30)]);
/** e1 admitted to bed 1 at 0 (s1), discharged at 60. */
const e1Discharged = play(ward, [admit('e1', 1, 0), discharge('e1', 60)]);

/** Bed 1 in the given status, reached by commands (e2 is the patient or holder when needed). */
function wardWithBed1(status: BedStatus): World {
  switch (status) {
    case BedStatus.free:
      return ward;
    case BedStatus.occupied:
      return play(ward, [admit('e2', 1, 0)]);
    case BedStatus.reserved:
      return play(ward, [reserve(1, 'e2', 0)]);
    case BedStatus.housekeeping:
      return play(ward, [admit('e2', 1, 0), discharge('e2', 10)]);
    case BedStatus.cleaning:
      return play(ward, [admit('e2', 1, 0), discharge('e2', 10), onBed('cleaning-started', 1, 20)]);
    case BedStatus.blocked:
      return play(ward, [block(1, 'broken rail', 0)]);
  }
}

describe('bed state machine', () => {
  describe('admit', () => {
    it('opens a stay in a free bed, occupies the bed and starts the encounter', () => {
      expect(decide(ward, admit('e1', 1, 0), live)).toStrictEqual([
        { kind: 'open-stay', encounterId: 'e1', bedId: 1, at: minutes(0) },
        occupied(1, 'e1', 0),
        {
          kind: 'update-encounter',
          encounterId: 'e1',
          status: EncounterStatus.inProgress,
          admittedAt: minutes(0),
          dischargedAt: null,
        },
      ]);
    });

    it('leaves the patient in the bed with one open stay', () => {
      expect(bedOf(e1InBed1, 1)).toMatchObject({
        status: BedStatus.occupied,
        encounterId: 'e1',
        since: minutes(0),
      });
      expect(encounterOf(e1InBed1, 'e1')).toStrictEqual({
        id: 'e1',
        status: EncounterStatus.inProgress,
        admittedAt: minutes(0),
        dischargedAt: null,
        stays: [
          {
            id: 's1',
            encounterId: 'e1',
            bedId: 1,
            startAt: minutes(0),
            endAt: null,
            endReason: null,
          },
        ],
      });
    });

    it('keeps the admission time of an encounter already in progress', () => {
      const world = worldOf(
        [freeBed(1)],
        [plannedEncounter('e1', { status: EncounterStatus.inProgress, admittedAt: minutes(-30) })],
      );

      expect(decide(world, admit('e1', 1, 0), live)).toContainEqual(
        expect.objectContaining({ kind: 'update-encounter', admittedAt: minutes(-30) }),
      );
    });

    it('takes a bed reserved for the same patient', () => {
      const world = play(ward, [reserve(1, 'e1', 0)]);

      expect(decide(world, admit('e1', 1, 10), live)).toContainEqual(occupied(1, 'e1', 10));
    });

    it('refuses a bed that is occupied', () => {
      expect(refusal(e1InBed1, admit('e2', 1, 10))).toStrictEqual(conflict('bed_occupied'));
    });

    it('refuses a blocked bed', () => {
      expect(refusal(ward, admit('e1', 4, 0))).toStrictEqual(conflict('bed_blocked'));
    });

    it('refuses a bed reserved for someone else', () => {
      const world = play(ward, [reserve(1, 'e2', 0)]);

      expect(refusal(world, admit('e1', 1, 10))).toStrictEqual(conflict('bed_reserved'));
    });

    it.each([BedStatus.housekeeping, BedStatus.cleaning])(
      'refuses a live admit into a bed in %s',
      (status) => {
        expect(refusal(wardWithBed1(status), admit('e1', 1, 30))).toStrictEqual(
          conflict('bed_not_clean'),
        );
      },
    );

    it.each([BedStatus.housekeeping, BedStatus.cleaning])(
      'lets a feed or history import admit into a bed in %s',
      (status) => {
        const options = { ...live, allowUncleanedBed: true };

        expect(decide(wardWithBed1(status), admit('e1', 1, 30), options)).toContainEqual(
          occupied(1, 'e1', 30),
        );
        expect(decide(wardWithBed1(status), admit('e1', 1, 30), history)).toContainEqual(
          occupied(1, 'e1', 30),
        );
      },
    );

    it('refuses a patient already in a bed: that is a transfer', () => {
      expect(refusal(e1InBed1, admit('e1', 2, 10))).toStrictEqual(conflict('already_admitted'));
    });

    it('refuses an encounter already discharged', () => {
      expect(refusal(e1Discharged, admit('e1', 2, 90))).toStrictEqual(
        conflict('encounter_finished'),
      );
    });

    it('refuses an encounter that was cancelled', () => {
      const world = worldOf(
        [freeBed(1)],
        [plannedEncounter('e1', { status: EncounterStatus.cancelled })],
      );

      expect(refusal(world, admit('e1', 1, 0))).toStrictEqual(conflict('encounter_cancelled'));
    });

    it('refuses an admit dated before the current status of the bed', () => {
      const world = play(ward, [reserve(1, 'e1', 20)]);

      expect(refusal(world, admit('e1', 1, 10))).toStrictEqual(tooEarly);
    });

    it('refuses an admit dated before the end of the encounter’s previous stay', () => {
      const world = worldOf(
        [freeBed(1)],
        [
          plannedEncounter('e1', {
            status: EncounterStatus.inProgress,
            stays: [
              {
                id: 's0',
                encounterId: 'e1',
                bedId: 1,
                startAt: minutes(-50),
                endAt: minutes(-10),
                endReason: 'transfer',
              },
            ],
          }),
        ],
      );

      expect(refusal(world, admit('e1', 1, -20))).toStrictEqual(tooEarly);
      expect(() => decide(world, admit('e1', 1, -10), live)).not.toThrow();
    });
  });

  describe('transfer', () => {
    it('closes the stay, sends the old bed to housekeeping and opens a stay in the new bed', () => {
      expect(decide(e1InBed1, transfer('e1', 2, 30), live)).toStrictEqual([
        { kind: 'close-stay', stayId: 's1', at: minutes(30), reason: 'transfer' },
        vacated(1, 30),
        { kind: 'open-stay', encounterId: 'e1', bedId: 2, at: minutes(30) },
        occupied(2, 'e1', 30),
      ]);
    });

    it('leaves the old stay closed at the transfer instant and the new one open', () => {
      expect(encounterOf(e1MovedToBed2, 'e1').stays).toStrictEqual([
        {
          id: 's1',
          encounterId: 'e1',
          bedId: 1,
          startAt: minutes(0),
          endAt: minutes(30),
          endReason: 'transfer',
        },
        {
          id: 's2',
          encounterId: 'e1',
          bedId: 2,
          startAt: minutes(30),
          endAt: null,
          endReason: null,
        },
      ]);
      expect(bedOf(e1MovedToBed2, 1)).toMatchObject({
        status: BedStatus.housekeeping,
        encounterId: null,
      });
    });

    it('refuses the bed the patient already lies in', () => {
      expect(refusal(e1InBed1, transfer('e1', 1, 30))).toStrictEqual(conflict('same_bed'));
    });

    it('refuses a patient who is not in a bed', () => {
      expect(refusal(ward, transfer('e1', 2, 30))).toStrictEqual(conflict('not_in_bed'));
    });

    it.each([
      ['occupied', play(e1InBed1, [admit('e2', 2, 10)]), 'bed_occupied'],
      ['blocked', play(e1InBed1, [block(2, 'maintenance', 10)]), 'bed_blocked'],
      ['reserved for someone else', play(e1InBed1, [reserve(2, 'e2', 10)]), 'bed_reserved'],
      [
        'waiting for housekeeping',
        play(e1InBed1, [admit('e2', 2, 5), discharge('e2', 10)]),
        'bed_not_clean',
      ],
    ])('refuses a target bed that is %s', (_, world, reason) => {
      expect(refusal(world, transfer('e1', 2, 30))).toStrictEqual(conflict(reason));
    });

    it('takes a bed reserved for the patient', () => {
      const world = play(e1InBed1, [reserve(2, 'e1', 10)]);

      expect(decide(world, transfer('e1', 2, 30), live)).toContainEqual(occupied(2, 'e1', 30));
    });

    it('lets a history import move the patient into a bed not yet cleaned', () => {
      const world = play(e1InBed1, [admit('e2', 2, 5), discharge('e2', 10)]);

      expect(decide(world, transfer('e1', 2, 30), history)).toContainEqual(occupied(2, 'e1', 30));
    });

    it('refuses a transfer dated before the current stay started', () => {
      expect(refusal(e1MovedToBed2, transfer('e1', 3, 20))).toStrictEqual(tooEarly);
    });

    it('refuses a transfer dated before the current status of the target bed', () => {
      const world = play(e1InBed1, [block(2, 'maintenance', 40), onBed('unblock', 2, 50)]);

      expect(refusal(world, transfer('e1', 2, 45))).toStrictEqual(tooEarly);
    });

    it(
      'refuses a transfer dated before a cancelled discharge put the patient back ' +
        '(fault: the vacated bed went to housekeeping before the occupation it ended began)',
      () => {
        const world = play(e1Discharged, [
          onBed('cleaning-started', 1, 70),
          onBed('cleaning-finished', 1, 80),
          cancel('cancel-discharge', 'e1', 90),
        ]);

        expect(refusal(world, transfer('e1', 2, 75))).toStrictEqual(tooEarly);
      },
    );
  });

  describe('discharge', () => {
    it('closes the stay, sends the bed to housekeeping and finishes the encounter', () => {
      expect(decide(e1InBed1, discharge('e1', 60), live)).toStrictEqual([
        { kind: 'close-stay', stayId: 's1', at: minutes(60), reason: 'discharge' },
        vacated(1, 60),
        {
          kind: 'update-encounter',
          encounterId: 'e1',
          status: EncounterStatus.finished,
          admittedAt: minutes(0),
          dischargedAt: minutes(60),
        },
      ]);
    });

    it('leaves the bed waiting for housekeeping, never free', () => {
      expect(bedOf(e1Discharged, 1)).toMatchObject({
        status: BedStatus.housekeeping,
        since: minutes(60),
        encounterId: null,
      });
    });

    it('refuses a patient who is not in a bed', () => {
      expect(refusal(ward, discharge('e1', 60))).toStrictEqual(conflict('not_in_bed'));
    });

    it('refuses a second discharge', () => {
      expect(refusal(e1Discharged, discharge('e1', 70))).toStrictEqual(conflict('not_in_bed'));
    });

    it('refuses a discharge dated before the stay started', () => {
      expect(refusal(e1MovedToBed2, discharge('e1', 20))).toStrictEqual(tooEarly);
    });

    it('discharges at the instant of admission: a stay may be empty, never negative', () => {
      const world = play(e1InBed1, [discharge('e1', 0)]);

      expect(encounterOf(world, 'e1').stays[0]).toMatchObject({
        startAt: minutes(0),
        endAt: minutes(0),
      });
    });

    it(
      'refuses a discharge dated before a cancelled discharge put the patient back ' +
        '(fault: the vacated bed went to housekeeping before the occupation it ended began)',
      () => {
        const world = play(e1Discharged, [
          onBed('cleaning-started', 1, 70),
          onBed('cleaning-finished', 1, 80),
          cancel('cancel-discharge', 'e1', 90),
        ]);

        expect(bedOf(world, 1)).toMatchObject({ status: BedStatus.occupied, since: minutes(90) });
        expect(refusal(world, discharge('e1', 75))).toStrictEqual(tooEarly);
        expect(() => decide(world, discharge('e1', 90), live)).not.toThrow();
      },
    );
  });

  describe('cancel-admit', () => {
    it('cancels the stay, restores the bed and returns the encounter to planned', () => {
      expect(decide(e1InBed1, cancel('cancel-admit', 'e1', 5), live)).toStrictEqual([
        { kind: 'cancel-stay', stayId: 's1' },
        { kind: 'restore-bed-status', bedId: 1 },
        {
          kind: 'update-encounter',
          encounterId: 'e1',
          status: EncounterStatus.planned,
          admittedAt: null,
          dischargedAt: null,
        },
      ]);
    });

    it('gives back exactly the world before the admit', () => {
      expect(play(e1InBed1, [cancel('cancel-admit', 'e1', 5)])).toStrictEqual(ward);
    });

    it('gives a reserved bed back to its reservation', () => {
      const reserved = play(ward, [reserve(1, 'e1', 0)]);
      const undone = play(reserved, [admit('e1', 1, 10), cancel('cancel-admit', 'e1', 15)]);

      expect(undone).toStrictEqual(reserved);
    });

    it(
      'lets the corrected admit follow a cancelled one ' +
        '(fault: the encounter was marked cancelled and the new admit refused)',
      () => {
        const world = play(e1InBed1, [cancel('cancel-admit', 'e1', 5), admit('e1', 2, 6)]);

        expect(encounterOf(world, 'e1')).toMatchObject({
          status: EncounterStatus.inProgress,
          admittedAt: minutes(6),
        });
        expect(bedOf(world, 1).status).toBe(BedStatus.free);
        expect(bedOf(world, 2)).toMatchObject({ status: BedStatus.occupied, encounterId: 'e1' });
      },
    );

    it('refuses after a transfer: the transfer must be cancelled first', () => {
      expect(refusal(e1MovedToBed2, cancel('cancel-admit', 'e1', 40))).toStrictEqual(
        conflict('moved_since_admit'),
      );
    });

    it('refuses an encounter that was never admitted', () => {
      expect(refusal(ward, cancel('cancel-admit', 'e1', 5))).toStrictEqual(conflict('not_in_bed'));
    });

    it('refuses an encounter already discharged', () => {
      expect(refusal(e1Discharged, cancel('cancel-admit', 'e1', 70))).toStrictEqual(
        conflict('not_in_bed'),
      );
    });

    it('refuses a second cancel of the same admit', () => {
      const world = play(e1InBed1, [cancel('cancel-admit', 'e1', 5)]);

      expect(refusal(world, cancel('cancel-admit', 'e1', 6))).toStrictEqual(conflict('not_in_bed'));
    });

    it('refuses after a swap: the patient has moved since admission', () => {
      const world = play(e1InBed1, [admit('e2', 2, 5), swap('e1', 'e2', 10)]);

      expect(refusal(world, cancel('cancel-admit', 'e1', 20))).toStrictEqual(
        conflict('moved_since_admit'),
      );
    });

    it('refuses a cancel dated before the admission (fault: any date was accepted)', () => {
      expect(refusal(e1InBed1, cancel('cancel-admit', 'e1', -5))).toStrictEqual(tooEarly);
    });
  });

  describe('cancel-transfer', () => {
    it('cancels the new stay, frees its bed and reopens the stay in the old bed', () => {
      expect(decide(e1MovedToBed2, cancel('cancel-transfer', 'e1', 35), live)).toStrictEqual([
        { kind: 'cancel-stay', stayId: 's2' },
        { kind: 'restore-bed-status', bedId: 2 },
        { kind: 'reopen-stay', stayId: 's1' },
        { kind: 'restore-bed-status', bedId: 1 },
      ]);
    });

    it('returns the patient to the previous bed exactly as before the transfer', () => {
      expect(play(e1MovedToBed2, [cancel('cancel-transfer', 'e1', 35)])).toStrictEqual(e1InBed1);
    });

    it('undoes transfers one at a time, latest first', () => {
      const twice = play(e1MovedToBed2, [transfer('e1', 3, 40)]);
      const once = play(twice, [cancel('cancel-transfer', 'e1', 50)]);

      expect(once).toStrictEqual(e1MovedToBed2);
      expect(play(once, [cancel('cancel-transfer', 'e1', 50)])).toStrictEqual(e1InBed1);
    });

    it('puts the patient back from the cancel on when the old bed was cleaned meanwhile', () => {
      const world = play(e1MovedToBed2, [
        onBed('cleaning-started', 1, 40),
        onBed('cleaning-finished', 1, 50),
      ]);

      expect(decide(world, cancel('cancel-transfer', 'e1', 60), live)).toStrictEqual([
        { kind: 'cancel-stay', stayId: 's2' },
        { kind: 'restore-bed-status', bedId: 2 },
        { kind: 'reopen-stay', stayId: 's1' },
        occupied(1, 'e1', 60),
      ]);
    });

    it('never dates the return before the old bed’s current status', () => {
      const world = play(e1MovedToBed2, [onBed('cleaning-finished', 1, 50)]);

      expect(decide(world, cancel('cancel-transfer', 'e1', 40), live)).toContainEqual(
        occupied(1, 'e1', 50),
      );
    });

    it.each([
      ['another patient came and went', [admit('e2', 1, 40), discharge('e2', 50)], history],
      ['another patient lies there', [admit('e2', 1, 40)], history],
      [
        'it is reserved for someone else',
        [onBed('cleaning-finished', 1, 40), reserve(1, 'e2', 50)],
      ],
      ['it is blocked', [block(1, 'leak', 40)]],
    ] as const)(
      'refuses to return the patient to the old bed when %s',
      (_, meanwhile, options = live) => {
        const world = play(e1MovedToBed2, meanwhile, options);

        expect(refusal(world, cancel('cancel-transfer', 'e1', 60))).toStrictEqual(
          conflict('bed_taken'),
        );
      },
    );

    it('refuses an encounter that was never transferred', () => {
      expect(refusal(e1InBed1, cancel('cancel-transfer', 'e1', 35))).toStrictEqual(
        conflict('no_transfer'),
      );
    });

    it('refuses a swap: it is not a transfer', () => {
      const world = play(e1InBed1, [admit('e2', 2, 5), swap('e1', 'e2', 10)]);

      expect(refusal(world, cancel('cancel-transfer', 'e1', 20))).toStrictEqual(
        conflict('no_transfer'),
      );
    });

    it('refuses an encounter that is not in a bed', () => {
      const world = play(e1MovedToBed2, [discharge('e1', 60)]);

      expect(refusal(ward, cancel('cancel-transfer', 'e1', 35))).toStrictEqual(
        conflict('not_in_bed'),
      );
      expect(refusal(world, cancel('cancel-transfer', 'e1', 70))).toStrictEqual(
        conflict('not_in_bed'),
      );
    });

    it('refuses a cancel dated before the transfer (fault: any date was accepted)', () => {
      expect(refusal(e1MovedToBed2, cancel('cancel-transfer', 'e1', 20))).toStrictEqual(tooEarly);
    });
  });

  describe('cancel-discharge', () => {
    it('reopens the stay, restores the bed and puts the encounter back in progress', () => {
      expect(decide(e1Discharged, cancel('cancel-discharge', 'e1', 65), live)).toStrictEqual([
        { kind: 'reopen-stay', stayId: 's1' },
        { kind: 'restore-bed-status', bedId: 1 },
        {
          kind: 'update-encounter',
          encounterId: 'e1',
          status: EncounterStatus.inProgress,
          admittedAt: minutes(0),
          dischargedAt: null,
        },
      ]);
    });

    it('gives back exactly the world before the discharge', () => {
      expect(play(e1Discharged, [cancel('cancel-discharge', 'e1', 65)])).toStrictEqual(e1InBed1);
    });

    it('puts the patient back from the cancel on when the bed was cleaned meanwhile', () => {
      const world = play(e1Discharged, [onBed('cleaning-started', 1, 70)]);

      expect(decide(world, cancel('cancel-discharge', 'e1', 80), live)).toContainEqual(
        occupied(1, 'e1', 80),
      );
    });

    it.each([
      ['another patient came and went', [admit('e2', 1, 70), discharge('e2', 80)], history],
      [
        'it is reserved for someone else',
        [onBed('cleaning-finished', 1, 70), reserve(1, 'e2', 75)],
      ],
      ['it is blocked', [block(1, 'leak', 70)]],
    ] as const)(
      'refuses to return the patient to the bed when %s',
      (_, meanwhile, options = live) => {
        const world = play(e1Discharged, meanwhile, options);

        expect(refusal(world, cancel('cancel-discharge', 'e1', 90))).toStrictEqual(
          conflict('bed_taken'),
        );
      },
    );

    it('refuses an encounter still in a bed', () => {
      expect(refusal(e1InBed1, cancel('cancel-discharge', 'e1', 65))).toStrictEqual(
        conflict('not_discharged'),
      );
    });

    it('refuses an encounter never admitted', () => {
      expect(refusal(ward, cancel('cancel-discharge', 'e1', 65))).toStrictEqual(
        conflict('not_discharged'),
      );
    });

    it('refuses a cancel dated before the discharge', () => {
      expect(refusal(e1Discharged, cancel('cancel-discharge', 'e1', 50))).toStrictEqual(tooEarly);
    });
  });

  describe('swap', () => {
    const twoPatients = play(e1InBed1, [admit('e2', 2, 10)]);

    it('closes both stays and opens each patient a stay in the other’s bed', () => {
      expect(decide(twoPatients, swap('e1', 'e2', 20), live)).toStrictEqual([
        { kind: 'close-stay', stayId: 's1', at: minutes(20), reason: 'swap' },
        { kind: 'close-stay', stayId: 's2', at: minutes(20), reason: 'swap' },
        { kind: 'open-stay', encounterId: 'e1', bedId: 2, at: minutes(20) },
        { kind: 'open-stay', encounterId: 'e2', bedId: 1, at: minutes(20) },
        occupied(2, 'e1', 20),
        occupied(1, 'e2', 20),
      ]);
    });

    it('refuses to swap a patient with themself', () => {
      expect(refusal(twoPatients, swap('e1', 'e1', 20))).toStrictEqual({
        code: ErrorCode.validation,
        reason: 'same_encounter',
      });
    });

    it('refuses when either patient is not in a bed', () => {
      expect(refusal(e1InBed1, swap('e1', 'e2', 20))).toStrictEqual(conflict('not_in_bed'));
      expect(refusal(e1InBed1, swap('e2', 'e1', 20))).toStrictEqual(conflict('not_in_bed'));
    });

    it('refuses a swap dated before either stay started', () => {
      expect(refusal(twoPatients, swap('e1', 'e2', 5))).toStrictEqual(tooEarly);
      expect(refusal(twoPatients, swap('e2', 'e1', 5))).toStrictEqual(tooEarly);
    });

    it(
      'refuses a swap dated before a cancelled discharge put a patient back ' +
        '(fault: a bed’s new occupation began before the one it replaced)',
      () => {
        const world = play(e1Discharged, [
          admit('e2', 2, 10),
          onBed('cleaning-started', 1, 70),
          cancel('cancel-discharge', 'e1', 90),
        ]);

        expect(refusal(world, swap('e1', 'e2', 80))).toStrictEqual(tooEarly);
      },
    );
  });

  describe('cleaning', () => {
    it('starts cleaning a bed waiting for housekeeping', () => {
      expect(decide(e1Discharged, onBed('cleaning-started', 1, 70), live)).toStrictEqual([
        {
          kind: 'set-bed-status',
          bedId: 1,
          status: BedStatus.cleaning,
          reason: null,
          encounterId: null,
          at: minutes(70),
        },
      ]);
    });

    it.each([BedStatus.housekeeping, BedStatus.cleaning])(
      'frees a bed in %s when cleaning is finished',
      (status) => {
        expect(decide(wardWithBed1(status), onBed('cleaning-finished', 1, 70), live)).toStrictEqual(
          [
            {
              kind: 'set-bed-status',
              bedId: 1,
              status: BedStatus.free,
              reason: null,
              encounterId: null,
              at: minutes(70),
            },
          ],
        );
      },
    );

    it.each([
      BedStatus.free,
      BedStatus.occupied,
      BedStatus.cleaning,
      BedStatus.blocked,
      BedStatus.reserved,
    ])('refuses to start cleaning a bed that is %s', (status) => {
      expect(refusal(wardWithBed1(status), onBed('cleaning-started', 1, 70))).toStrictEqual(
        conflict(`bed_${status}`),
      );
    });

    it.each([BedStatus.free, BedStatus.occupied, BedStatus.blocked, BedStatus.reserved])(
      'refuses to finish cleaning a bed that is %s',
      (status) => {
        expect(refusal(wardWithBed1(status), onBed('cleaning-finished', 1, 70))).toStrictEqual(
          conflict(`bed_${status}`),
        );
      },
    );

    it('refuses cleaning dated before the bed was vacated', () => {
      expect(refusal(e1Discharged, onBed('cleaning-started', 1, 50))).toStrictEqual(tooEarly);
    });
  });

  describe('block and unblock', () => {
    it.each([BedStatus.free, BedStatus.housekeeping, BedStatus.cleaning])(
      'blocks a bed that is %s, with its reason trimmed',
      (status) => {
        expect(decide(wardWithBed1(status), block(1, '  broken rail ', 70), live)).toStrictEqual([
          {
            kind: 'set-bed-status',
            bedId: 1,
            status: BedStatus.blocked,
            reason: 'broken rail',
            encounterId: null,
            at: minutes(70),
          },
        ]);
      },
    );

    it.each(['', '   '])('refuses to block without a reason (%j)', (reason) => {
      expect(refusal(ward, block(1, reason, 70))).toStrictEqual({
        code: ErrorCode.validation,
        reason: 'reason_required',
      });
    });

    it.each([BedStatus.occupied, BedStatus.reserved, BedStatus.blocked])(
      'refuses to block a bed that is %s',
      (status) => {
        expect(refusal(wardWithBed1(status), block(1, 'maintenance', 70))).toStrictEqual(
          conflict(`bed_${status}`),
        );
      },
    );

    it('unblocks a blocked bed to free', () => {
      expect(decide(ward, onBed('unblock', 4, 70), live)).toStrictEqual([
        {
          kind: 'set-bed-status',
          bedId: 4,
          status: BedStatus.free,
          reason: null,
          encounterId: null,
          at: minutes(70),
        },
      ]);
    });

    it.each([BedStatus.housekeeping, BedStatus.cleaning])(
      'sends a bed blocked while %s back to housekeeping, not to free',
      (status) => {
        const world = play(wardWithBed1(status), [block(1, 'maintenance', 30)]);

        expect(decide(world, onBed('unblock', 1, 70), live)).toStrictEqual([
          {
            kind: 'set-bed-status',
            bedId: 1,
            status: BedStatus.housekeeping,
            reason: null,
            encounterId: null,
            at: minutes(70),
          },
        ]);
      },
    );

    it.each([
      BedStatus.free,
      BedStatus.occupied,
      BedStatus.reserved,
      BedStatus.housekeeping,
      BedStatus.cleaning,
    ])('refuses to unblock a bed that is %s', (status) => {
      expect(refusal(wardWithBed1(status), onBed('unblock', 1, 70))).toStrictEqual(
        conflict(`bed_${status}`),
      );
    });

    it('refuses an unblock dated before the block', () => {
      const world = play(ward, [block(1, 'maintenance', 30)]);

      expect(refusal(world, onBed('unblock', 1, 20))).toStrictEqual(tooEarly);
    });
  });

  describe('reserve and release', () => {
    it('reserves a free bed for an encounter', () => {
      expect(decide(ward, reserve(1, 'e1', 10), live)).toStrictEqual([
        {
          kind: 'set-bed-status',
          bedId: 1,
          status: BedStatus.reserved,
          reason: null,
          encounterId: 'e1',
          at: minutes(10),
        },
      ]);
    });

    it('reserves a bed for a patient lying elsewhere (a pending transfer)', () => {
      expect(decide(e1InBed1, reserve(2, 'e1', 10), live)).toHaveLength(1);
    });

    it('refuses to reserve the bed the patient lies in', () => {
      expect(refusal(e1InBed1, reserve(1, 'e1', 10))).toStrictEqual(conflict('same_bed'));
    });

    it.each([
      BedStatus.occupied,
      BedStatus.reserved,
      BedStatus.housekeeping,
      BedStatus.cleaning,
      BedStatus.blocked,
    ])('refuses to reserve a bed that is %s', (status) => {
      expect(refusal(wardWithBed1(status), reserve(1, 'e3', 70))).toStrictEqual(
        conflict(`bed_${status}`),
      );
    });

    it('refuses to reserve for a discharged encounter', () => {
      expect(refusal(e1Discharged, reserve(2, 'e1', 70))).toStrictEqual(
        conflict('encounter_finished'),
      );
    });

    it('refuses to reserve for a cancelled encounter', () => {
      const world = worldOf(
        [freeBed(1)],
        [plannedEncounter('e1', { status: EncounterStatus.cancelled })],
      );

      expect(refusal(world, reserve(1, 'e1', 0))).toStrictEqual(conflict('encounter_cancelled'));
    });

    it('refuses a reservation dated before the bed’s current status', () => {
      expect(refusal(wardWithBed1(BedStatus.free), reserve(1, 'e1', -90))).toStrictEqual(tooEarly);
    });

    it('releases a reserved bed to free', () => {
      const world = play(ward, [reserve(1, 'e1', 10)]);

      expect(decide(world, onBed('release', 1, 20), live)).toStrictEqual([
        {
          kind: 'set-bed-status',
          bedId: 1,
          status: BedStatus.free,
          reason: null,
          encounterId: null,
          at: minutes(20),
        },
      ]);
      expect(play(world, [onBed('release', 1, 20)]).beds.get(1)?.encounterId).toBeNull();
    });

    it.each([
      BedStatus.free,
      BedStatus.occupied,
      BedStatus.housekeeping,
      BedStatus.cleaning,
      BedStatus.blocked,
    ])('refuses to release a bed that is %s', (status) => {
      expect(refusal(wardWithBed1(status), onBed('release', 1, 70))).toStrictEqual(
        conflict(`bed_${status}`),
      );
    });
  });

  describe('set-isolation', () => {
    it('flags a bed as isolated whatever its status', () => {
      expect(decide(e1InBed1, isolate(1, true, 10), live)).toStrictEqual([
        { kind: 'set-isolation', bedId: 1, isolation: true },
      ]);
      expect(play(e1InBed1, [isolate(1, true, 10)]).beds.get(1)).toMatchObject({
        isolation: true,
        status: BedStatus.occupied,
        since: minutes(0),
      });
    });

    it('refuses a change that changes nothing', () => {
      expect(refusal(ward, isolate(1, false, 10))).toStrictEqual(conflict('no_change'));
    });

    it('refuses a change dated before the bed’s current status', () => {
      expect(refusal(e1InBed1, isolate(1, true, -5))).toStrictEqual(tooEarly);
    });
  });

  describe('unknown beds and encounters', () => {
    it.each<[string, Command, string]>([
      ['admit to an unknown bed', admit('e2', 99, 10), 'unknown_bed'],
      ['admit of an unknown encounter', admit('x', 2, 10), 'unknown_encounter'],
      ['transfer to an unknown bed', transfer('e1', 99, 10), 'unknown_bed'],
      ['transfer of an unknown encounter', transfer('x', 2, 10), 'unknown_encounter'],
      ['discharge', discharge('x', 10), 'unknown_encounter'],
      ['cancel-admit', cancel('cancel-admit', 'x', 10), 'unknown_encounter'],
      ['cancel-transfer', cancel('cancel-transfer', 'x', 10), 'unknown_encounter'],
      ['cancel-discharge', cancel('cancel-discharge', 'x', 10), 'unknown_encounter'],
      ['swap of an unknown first encounter', swap('x', 'e1', 10), 'unknown_encounter'],
      ['swap with an unknown second encounter', swap('e1', 'x', 10), 'unknown_encounter'],
      ['cleaning-started', onBed('cleaning-started', 99, 10), 'unknown_bed'],
      ['cleaning-finished', onBed('cleaning-finished', 99, 10), 'unknown_bed'],
      ['block', block(99, 'maintenance', 10), 'unknown_bed'],
      ['unblock', onBed('unblock', 99, 10), 'unknown_bed'],
      ['reserve of an unknown bed', reserve(99, 'e2', 10), 'unknown_bed'],
      ['reserve for an unknown encounter', reserve(2, 'x', 10), 'unknown_encounter'],
      ['release', onBed('release', 99, 10), 'unknown_bed'],
      ['set-isolation', isolate(99, true, 10), 'unknown_bed'],
    ])('refuses %s as not found', (_, command, reason) => {
      expect(refusal(e1InBed1, command)).toStrictEqual({ code: ErrorCode.notFound, reason });
    });
  });

  describe('event time', () => {
    const now = minutes(0);
    /** One command of each type; every one names things the world does not know. */
    const anyOfType = (type: CommandType, at: Date): Command => {
      switch (type) {
        case 'admit':
        case 'transfer':
        case 'reserve':
          return { type, encounterId: 'x', bedId: 99, at };
        case 'discharge':
        case 'cancel-admit':
        case 'cancel-transfer':
        case 'cancel-discharge':
          return { type, encounterId: 'x', at };
        case 'swap':
          return { type, encounterId: 'x', otherEncounterId: 'y', at };
        case 'cleaning-started':
        case 'cleaning-finished':
        case 'unblock':
        case 'release':
          return { type, bedId: 99, at };
        case 'block':
          return { type, bedId: 99, reason: 'maintenance', at };
        case 'set-isolation':
          return { type, bedId: 99, isolation: true, at };
      }
    };
    const commandTypes: CommandType[] = [
      'admit',
      'transfer',
      'discharge',
      'cancel-admit',
      'cancel-transfer',
      'cancel-discharge',
      'swap',
      'cleaning-started',
      'cleaning-finished',
      'block',
      'unblock',
      'reserve',
      'release',
      'set-isolation',
    ];

    it('gives live commands 5 minutes of tolerance and history imports none of that limit', () => {
      expect(liveCommandOptions(now)).toStrictEqual({
        now,
        maxFutureMs: 300_000,
        allowUncleanedBed: false,
      });
      expect(historyCommandOptions(now)).toStrictEqual({
        now,
        maxFutureMs: Number.POSITIVE_INFINITY,
        allowUncleanedBed: true,
      });
    });

    it('accepts a live command dated exactly 5 minutes after the clock', () => {
      const at = new Date(now.getTime() + 5 * 60_000);

      expect(() =>
        decide(ward, { ...admit('e1', 1, 0), at }, liveCommandOptions(now)),
      ).not.toThrow();
    });

    it.each(commandTypes)(
      'refuses a live %s dated more than 5 minutes after the clock, before any other check',
      (type) => {
        const at = new Date(now.getTime() + 5 * 60_000 + 1);

        expect(refusal(ward, anyOfType(type, at), liveCommandOptions(now))).toStrictEqual({
          code: ErrorCode.badEventTime,
          reason: 'future_event',
        });
      },
    );

    it('accepts a history import dated in 2150 (MIMIC shifts dates into 2110–2201)', () => {
      const at = new Date('2150-06-01T12:00:00Z');
      const command: Command = { type: 'admit', encounterId: 'e1', bedId: 1, at };

      expect(decide(ward, command, historyCommandOptions(now))).toContainEqual(
        expect.objectContaining({ kind: 'open-stay', at }),
      );
      expect(refusal(ward, command, liveCommandOptions(now))).toStrictEqual({
        code: ErrorCode.badEventTime,
        reason: 'future_event',
      });
    });

    it.each(commandTypes)('refuses a %s whose time is not a valid instant', (type) => {
      expect(
        refusal(ward, anyOfType(type, new Date(Number.NaN)), historyCommandOptions(now)),
      ).toStrictEqual({ code: ErrorCode.validation, reason: 'bad_time' });
    });
  });

  describe('purity', () => {
    it('writes nothing, and decides the same for the same world and command', () => {
      const snapshot = structuredClone(e1MovedToBed2);
      const first = decide(e1MovedToBed2, cancel('cancel-transfer', 'e1', 35), live);

      expect(decide(e1MovedToBed2, cancel('cancel-transfer', 'e1', 35), live)).toStrictEqual(first);
      applyChanges(e1MovedToBed2, first, stayIdGenerator());
      expect(e1MovedToBed2).toStrictEqual(snapshot);
    });
  });
});
