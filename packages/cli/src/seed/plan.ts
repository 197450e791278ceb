import { BedStatus, type Command } from '@medaxis/domain';

import {
  daytimeDischarge,
  day,
  edAdmissionWeights,
  hour,
  isolationCleanReason,
  isolationRate,
  maintenanceReasons,
  minute,
  sampleAdmitDecisionLeadMs,
  sampleStayMs,
  sampleTurnaround,
  stepDownWeights,
  type FlowDepartment,
} from '../demo/flows.ts';
import type { Random } from '../demo/random.ts';
import type { HospitalLayout, LayoutBed } from './layout.ts';

/** An encounter the seed creates, filled in while the history is played. */
export interface PlannedEncounter {
  /** Visit number; commands name the encounter by it until the database gives it an id. */
  visitNumber: string;
  class: 'inpatient' | 'emergency';
  department: FlowDepartment;
  admitDecisionAt: Date | null;
  expectedDischargeAt: Date | null;
}

export interface PlannedStep {
  /** `encounterId` holds the visit number of the planned encounter. */
  command: Command;
  /** Every bed the command touches: commands on one bed must apply in order. */
  bedIds: number[];
  /** The encounter the command names, if any. */
  encounter?: PlannedEncounter;
  /** True on the encounter's first command: its transaction creates the encounter. */
  createsEncounter?: boolean;
}

/**
 * Before the history, the inpatient beds' records go back this many days (patients who had
 * already gone home when it starts), so census, length of stay and turnover read as in a
 * running hospital over that span too, not as a hospital filling up from empty.
 */
export const settledDays = 10;

/**
 * No stay the seed writes starts more than this many days before the history: beds must exist,
 * free, from then on.
 */
export const historyLeadDays = settledDays + 31;

export interface SeedPlanOptions {
  now: Date;
  /** Days of hospital life played before `now`. */
  historyDays: number;
  /** Occupancy the hospital ends near (within six beds). */
  targetOccupancy: number;
}

interface SimBed {
  layout: LayoutBed;
  status: BedStatus;
  since: number;
  isolation: boolean;
  /** Bumped whenever the bed's plan changes, so a pending admission for it lapses. */
  generation: number;
  occupant: SimEncounter | undefined;
}

interface SimEncounter {
  planned: PlannedEncounter;
  bed: SimBed | undefined;
  /** A bed held for the patient's next move. */
  reserved: SimBed | undefined;
  isolation: boolean;
  created: boolean;
}

interface Timed {
  at: number;
  order: number;
  run: (at: number) => void;
}

/**
 * Plays the demo hospital forward from `historyDays` before `now` to `now`, in memory, and
 * returns the commands that tell that history: ED arrivals and dispositions, boarding and
 * transfers to the wards, direct admissions, ICU step-downs, discharges in the daytime,
 * turnaround (housekeeping, cleaning, isolation cleans), maintenance blocks. The database
 * applies them through the domain afterwards; the plan keeps every bed and encounter in a
 * state the domain accepts, so a refusal there is a bug here.
 */
export function planHistory(
  layout: HospitalLayout,
  random: Random,
  options: SeedPlanOptions,
): PlannedStep[] {
  const now = options.now.getTime();
  const start = now - options.historyDays * day;
  const steps: PlannedStep[] = [];
  const queue = new TimedQueue();
  const beds = layout.beds.map((bed): SimBed => ({
    layout: bed,
    status: BedStatus.free,
    since: start - historyLeadDays * day,
    isolation: false,
    generation: 0,
    occupant: undefined,
  }));
  const departments = new Map(layout.departments.map((d) => [d.code, d]));
  const edWeights = edAdmissionWeights(layout.departments);
  const directOccupancy = options.targetOccupancy - 0.1;
  const stepDowns = stepDownWeights(layout.departments);
  let visits = 0;

  // ---- commands, each mirrored on the in-memory beds and encounters -------------------------

  const emit = (at: number, command: Command, touched: SimBed[], encounter?: SimEncounter) => {
    const step: PlannedStep = { command, bedIds: touched.map((bed) => bed.layout.id) };
    if (encounter) {
      step.encounter = encounter.planned;
      step.createsEncounter = !encounter.created;
      encounter.created = true;
    }
    steps.push(step);
    for (const bed of touched) bed.since = at;
  };

  const newEncounter = (
    department: FlowDepartment,
    kind: PlannedEncounter['class'],
  ): SimEncounter => {
    visits += 1;
    return {
      planned: {
        visitNumber: `V${String(visits).padStart(7, '0')}`,
        class: kind,
        department,
        admitDecisionAt: null,
        expectedDischargeAt: null,
      },
      bed: undefined,
      reserved: undefined,
      isolation: kind === 'inpatient' && random.chance(isolationRate),
      created: false,
    } satisfies SimEncounter;
  };

  const occupy = (encounter: SimEncounter, bed: SimBed, at: number) => {
    bed.status = BedStatus.occupied;
    bed.generation += 1;
    bed.occupant = encounter;
    encounter.bed = bed;
    if (encounter.isolation && !bed.isolation) {
      bed.isolation = true;
      emit(at, { type: 'set-isolation', bedId: bed.layout.id, isolation: true, at: new Date(at) }, [
        bed,
      ]);
    }
  };

  const admit = (encounter: SimEncounter, bed: SimBed, at: number) => {
    const id = encounter.planned.visitNumber;
    if (encounter.planned.class === 'inpatient') {
      // A direct admission: decided before the patient came (ED patients: edDisposition).
      const lead = sampleAdmitDecisionLeadMs(random, encounter.planned.department.kind);
      encounter.planned.admitDecisionAt = new Date(at - lead);
    }
    emit(
      at,
      { type: 'admit', encounterId: id, bedId: bed.layout.id, at: new Date(at) },
      [bed],
      encounter,
    );
    occupy(encounter, bed, at);
  };

  const transfer = (encounter: SimEncounter, to: SimBed, at: number) => {
    const from = encounter.bed!;
    encounter.reserved = undefined;
    const id = encounter.planned.visitNumber;
    emit(
      at,
      { type: 'transfer', encounterId: id, bedId: to.layout.id, at: new Date(at) },
      [from, to],
      encounter,
    );
    occupy(encounter, to, at);
    vacate(from, at);
  };

  const discharge = (encounter: SimEncounter, at: number) => {
    const bed = encounter.bed!;
    const id = encounter.planned.visitNumber;
    emit(at, { type: 'discharge', encounterId: id, at: new Date(at) }, [bed], encounter);
    encounter.bed = undefined;
    vacate(bed, at);
  };

  const setStatus = (bed: SimBed, at: number, command: Command, status: BedStatus) => {
    emit(at, command, [bed]);
    bed.status = status;
    bed.generation += 1;
  };

  // ---- turnaround --------------------------------------------------------------------------

  /** A bed a patient left: housekeeping, then cleaning, then ready for the next patient. */
  const vacate = (bed: SimBed, left: number) => {
    bed.status = BedStatus.housekeeping;
    bed.generation += 1;
    bed.occupant = undefined;
    const id = bed.layout.id;
    const { waitMs, cleanMs } = sampleTurnaround(random, bed.layout.department.kind);
    const clean = (from: number) =>
      queue.add(from, (at) => {
        const started: Command = { type: 'cleaning-started', bedId: id, at: new Date(at) };
        setStatus(bed, at, started, BedStatus.cleaning);
        queue.add(at + cleanMs, (done) => {
          const finished: Command = { type: 'cleaning-finished', bedId: id, at: new Date(done) };
          setStatus(bed, done, finished, BedStatus.free);
          ready(bed, done);
        });
      });

    if (!bed.isolation) {
      clean(left + waitMs);
      return;
    }
    // After an isolated patient the room is closed for disinfection (blocked), then cleaned as
    // usual: the domain returns a bed blocked before its clean to housekeeping.
    queue.add(left + waitMs, (at) => {
      const reason = isolationCleanReason;
      setStatus(bed, at, { type: 'block', bedId: id, reason, at: new Date(at) }, BedStatus.blocked);
      queue.add(at + random.uniform(1.5, 3) * hour, (done) => {
        const unblock: Command = { type: 'unblock', bedId: id, at: new Date(done) };
        setStatus(bed, done, unblock, BedStatus.housekeeping);
        bed.isolation = false;
        emit(done, { type: 'set-isolation', bedId: id, isolation: false, at: new Date(done) }, [
          bed,
        ]);
        clean(done + random.uniform(5, 20) * minute);
      });
    });
  };

  /** A free bed out of service until `reopens` (if that comes before `now`), then ready. */
  const closeForMaintenance = (bed: SimBed, at: number, reopens?: number) => {
    const reason = random.pick(maintenanceReasons);
    const id = bed.layout.id;
    setStatus(bed, at, { type: 'block', bedId: id, reason, at: new Date(at) }, BedStatus.blocked);
    if (reopens === undefined) return;
    queue.add(reopens, (done) => {
      setStatus(bed, done, { type: 'unblock', bedId: id, at: new Date(done) }, BedStatus.free);
      ready(bed, done);
    });
  };

  /**
   * A clean, free bed. The next patient comes after a gap chosen so the department runs near
   * the target occupancy; ED patients waiting for a ward bed may take it sooner (findBed).
   */
  const ready = (bed: SimBed, at: number) => {
    const department = bed.layout.department;
    const generation = bed.generation;
    const stillFree = () => bed.generation === generation && bed.status === BedStatus.free;

    if (department.kind === 'emergency') {
      queue.add(at + random.exponential(25 * minute), (arrived) => {
        if (stillFree()) edArrival(bed, arrived);
      });
      return;
    }
    if (random.chance(0.02)) {
      queue.add(at + random.uniform(0, 3) * hour, (blocked) => {
        if (stillFree()) closeForMaintenance(bed, blocked, blocked + random.uniform(4, 40) * hour);
      });
      return;
    }
    // Direct admissions alone would run at `directOccupancy`; patients from the ED and the ICU
    // fill the rest.
    const stayMs = department.averageStayDays * day;
    const gapMs = Math.max(30 * minute, stayMs * (1 / directOccupancy - 1) - 1.5 * hour);
    queue.add(at + random.exponential(gapMs), (admitted) => {
      if (stillFree()) directAdmission(bed, admitted);
    });
  };

  // ---- patient flows -----------------------------------------------------------------------

  const edArrival = (bed: SimBed, at: number) => {
    const encounter = newEncounter(bed.layout.department, 'emergency');
    admit(encounter, bed, at);
    queue.add(at + random.uniform(1.5, 5) * hour, (decided) => edDisposition(encounter, decided));
  };

  /** Roughly a third of ED patients are admitted; the others go home. */
  const edDisposition = (encounter: SimEncounter, at: number) => {
    if (!random.chance(0.32)) {
      discharge(encounter, at);
      return;
    }
    encounter.planned.admitDecisionAt = new Date(at);
    const target = random.weighted(edWeights);
    if (!target) {
      discharge(encounter, at);
      return;
    }
    // The bed search takes a while; the patient boards in the ED meanwhile.
    queue.add(at + random.uniform(15, 90) * minute, (search) =>
      findBed(encounter, departments.get(target)!, search),
    );
  };

  /**
   * Reserve a free bed in the department for the patient and move them a little later. After
   * a few hours without one, any medical or surgical ward will do (an outlier placement).
   */
  const findBed = (
    encounter: SimEncounter,
    department: FlowDepartment,
    at: number,
    attempt = 0,
  ) => {
    const wanted = (bed: SimBed) =>
      attempt < 3
        ? bed.layout.department === department
        : bed.layout.department.kind === 'ward' || bed.layout.department.kind === 'surgery';
    const free = beds.filter((bed) => bed.status === BedStatus.free && wanted(bed));
    if (free.length === 0) {
      queue.add(at + random.uniform(30, 90) * minute, (retry) =>
        findBed(encounter, department, retry, attempt + 1),
      );
      return;
    }
    const bed = random.pick(free);
    const id = encounter.planned.visitNumber;
    const reserve: Command = {
      type: 'reserve',
      bedId: bed.layout.id,
      encounterId: id,
      at: new Date(at),
    };
    emit(at, reserve, [bed], encounter);
    bed.status = BedStatus.reserved;
    bed.generation += 1;
    encounter.reserved = bed;
    queue.add(at + random.uniform(10, 45) * minute, (moved) => {
      transfer(encounter, bed, moved);
      planStayEnd(encounter, bed.layout.department, moved, moved);
    });
  };

  const directAdmission = (bed: SimBed, at: number) => {
    const encounter = newEncounter(bed.layout.department, 'inpatient');
    admit(encounter, bed, at);
    planStayEnd(encounter, bed.layout.department, at, at);
  };

  /**
   * Decides how the stay in `department` (begun at `admittedAt`) ends: ICU patients mostly
   * step down to a ward, others go home in the daytime, some later than expected (the board's
   * pending discharges), a few move to another bed of the ward on the way.
   */
  const planStayEnd = (
    encounter: SimEncounter,
    department: FlowDepartment,
    admittedAt: number,
    earliest: number,
    stayMs = sampleStayMs(random, department),
  ) => {
    const end = Math.max(admittedAt + stayMs, earliest + hour);

    if (department.kind === 'icu') {
      encounter.planned.expectedDischargeAt = null;
      queue.add(end, (at) => {
        const target = random.chance(0.75) ? random.weighted(stepDowns) : undefined;
        if (target) findBed(encounter, departments.get(target)!, at);
        else discharge(encounter, at);
      });
      return;
    }

    const expected = daytimeDischarge(random, end, layout.timeZone);
    encounter.planned.expectedDischargeAt = new Date(expected);
    const actual = random.chance(0.15)
      ? daytimeDischarge(random, expected + random.uniform(18, 30) * hour, layout.timeZone)
      : expected + random.uniform(-1, 1) * hour;
    queue.add(Math.max(actual, earliest + hour), (at) => discharge(encounter, at));

    if (random.chance(0.06)) {
      // Not before `earliest`: a patient in bed when the history starts moves within it.
      const move = Math.max(earliest, admittedAt + random.uniform(0.2, 0.5) * (end - admittedAt));
      queue.add(move, (at) => {
        if (!encounter.bed || at <= encounter.bed.since) return;
        const current = encounter.bed;
        const free = beds.filter(
          (bed) =>
            bed.layout.department === department &&
            bed.status === BedStatus.free &&
            bed !== current,
        );
        if (free.length > 0) transfer(encounter, random.pick(free), at);
      });
    }
  };

  // ---- the inpatient beds' records before the history -----------------------------------

  const settledSince = start - settledDays * day;
  const earliestStay = start - (historyLeadDays - 1) * day;

  /**
   * The patients a ward bed had before `until` (its first use in the history), back to before
   * `settledSince`: stays of the usual length, each followed by housekeeping, a clean and an
   * idle gap that keeps the bed near the target occupancy. Emitted oldest first, before
   * anything else on the bed. No isolation or maintenance here: those matter now, not weeks ago.
   * NOTE: these discharges fall at any hour; moving night ones to the day before emptied beds
   * just before the history (census 67 % there), so they stay where the stay ends.
   */
  const settle = (bed: SimBed, until: number) => {
    const department = bed.layout.department;
    const stays: { admitted: number; left: number; waitMs: number; cleanMs: number }[] = [];
    for (let next = until; next > settledSince;) {
      const { waitMs, cleanMs } = sampleTurnaround(random, department.kind);
      const stayMs = sampleStayMs(random, department);
      const idleMs = Math.max(
        30 * minute,
        stayMs * (1 / options.targetOccupancy - 1) - waitMs - cleanMs,
      );
      const left = next - random.exponential(idleMs) - cleanMs - waitMs;
      const admitted = Math.max(earliestStay, left - stayMs);
      if (left <= earliestStay + hour) break;
      stays.unshift({ admitted, left, waitMs, cleanMs });
      next = admitted;
    }
    for (const stay of stays) {
      const encounter = newEncounter(department, 'inpatient');
      encounter.isolation = false;
      encounter.planned.expectedDischargeAt = new Date(stay.left);
      admit(encounter, bed, stay.admitted);
      const id = encounter.planned.visitNumber;
      const discharged: Command = { type: 'discharge', encounterId: id, at: new Date(stay.left) };
      emit(stay.left, discharged, [bed], encounter);
      encounter.bed = undefined;
      bed.occupant = undefined;
      const cleaning = stay.left + stay.waitMs;
      const started: Command = {
        type: 'cleaning-started',
        bedId: bed.layout.id,
        at: new Date(cleaning),
      };
      setStatus(bed, cleaning, started, BedStatus.cleaning);
      const done = cleaning + stay.cleanMs;
      const finished: Command = {
        type: 'cleaning-finished',
        bedId: bed.layout.id,
        at: new Date(done),
      };
      setStatus(bed, done, finished, BedStatus.free);
    }
  };

  // ---- the hospital as it was when the history starts --------------------------------------

  for (const bed of beds) {
    const department = bed.layout.department;
    if (department.kind === 'emergency') {
      if (random.chance(0.7)) {
        const encounter = newEncounter(department, 'emergency');
        const arrived = start - random.uniform(0, 3) * hour;
        admit(encounter, bed, arrived);
        queue.add(Math.max(start, arrived + random.uniform(1.5, 5) * hour), (at) =>
          edDisposition(encounter, at),
        );
      } else {
        ready(bed, start);
      }
      continue;
    }
    const roll = random.next();
    if (roll < options.targetOccupancy) {
      // Admitted some time before the start, part-way through a stay in progress.
      const encounter = newEncounter(department, 'inpatient');
      const stay = sampleStayMs(random, department);
      const admitted = Math.max(earliestStay, start - random.uniform(0, stay));
      settle(bed, admitted);
      admit(encounter, bed, admitted);
      planStayEnd(encounter, department, admitted, start, stay);
    } else if (roll < options.targetOccupancy + 0.02) {
      const blocked = start - random.uniform(0, 24) * hour;
      settle(bed, blocked);
      closeForMaintenance(bed, blocked, start + random.uniform(2, 48) * hour);
    } else {
      settle(bed, start);
      ready(bed, start);
    }
  }

  // ---- play it forward ---------------------------------------------------------------------

  for (let next = queue.pop(now); next; next = queue.pop(now)) next.run(next.at);

  // ---- the last hours: keep the demo within its band, whatever the dice did ----------------
  // NOTE: played forward, the wards run full (up to ~96 % of all beds) a day or two before
  // `now`: ED admissions and step-downs outpace discharges, and only this trim brings the
  // census back to target. Matters to anyone reading census or KPIs over the last days.

  const recently = (bed: SimBed, hours: number) =>
    Math.min(now, Math.max(now - random.uniform(0.1, hours) * hour, bed.since + minute));
  const occupied = () => beds.filter((bed) => bed.status === BedStatus.occupied).length;
  const wardBeds = beds.filter((bed) => bed.layout.department.kind !== 'emergency');
  const freeWardBeds = () => wardBeds.filter((bed) => bed.status === BedStatus.free);

  while (occupied() > options.targetOccupancy * beds.length + 6) {
    // Too full: the patients most overdue went home this afternoon.
    const due = wardBeds
      .filter((bed) => bed.occupant?.planned.expectedDischargeAt)
      .sort((a, b) => expectedAt(a) - expectedAt(b))[0];
    if (!due) break;
    discharge(due.occupant!, recently(due, 2));
  }
  while (occupied() < options.targetOccupancy * beds.length - 6 && freeWardBeds().length > 0) {
    const bed = random.pick(freeWardBeds());
    directAdmission(bed, recently(bed, 2));
  }
  const edPatients = beds
    .filter((bed) => bed.layout.department.kind === 'emergency')
    .map((bed) => bed.occupant)
    .filter((e): e is SimEncounter => e !== undefined);
  // A few ED patients are always waiting for a ward bed in the afternoon.
  const decided = () => edPatients.filter((e) => e.planned.admitDecisionAt);
  for (const patient of edPatients.filter((e) => !e.planned.admitDecisionAt)) {
    if (decided().length >= 3) break;
    patient.planned.admitDecisionAt = new Date(recently(patient.bed!, 1));
  }
  const boarders = decided().filter((e) => !e.reserved);
  for (const boarder of boarders) {
    if (beds.filter((bed) => bed.status === BedStatus.reserved).length >= 3) break;
    const free = freeWardBeds();
    if (free.length === 0) break;
    // The bed manager found a bed; the transfer is still to come.
    const bed = random.pick(free);
    const id = boarder.planned.visitNumber;
    const at = Math.max(recently(bed, 1), boarder.bed!.since);
    emit(
      at,
      { type: 'reserve', bedId: bed.layout.id, encounterId: id, at: new Date(at) },
      [bed],
      boarder,
    );
    bed.status = BedStatus.reserved;
    boarder.reserved = bed;
  }
  for (let blocked = beds.filter((bed) => bed.status === BedStatus.blocked).length; blocked < 3;) {
    const free = freeWardBeds();
    if (free.length === 0) break;
    const bed = random.pick(free);
    closeForMaintenance(bed, recently(bed, 12));
    blocked += 1;
  }
  return steps;
}

/** Earliest-first queue of things that happen later; ties keep the order they were added. */
class TimedQueue {
  #heap: Timed[] = [];
  #order = 0;

  add(at: number, run: (at: number) => void) {
    const heap = this.#heap;
    heap.push({ at: Math.round(at), order: this.#order++, run });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest entry due at or before `until`, removed from the queue. */
  pop(until: number): Timed | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (!top || top.at > until) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function expectedAt(bed: SimBed): number {
  return bed.occupant?.planned.expectedDischargeAt?.getTime() ?? Number.POSITIVE_INFINITY;
}

function before(a: Timed, b: Timed) {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
