import { auditWriterFor, type AuditWriter } from '@medaxis/audit';
import { executeCommand, recordAdmitDecision, type Db } from '@medaxis/db';
import {
  BedStatus,
  isMedaxisError,
  liveCommandOptions,
  type Command,
  type MedaxisError,
} from '@medaxis/domain';

import {
  daytimeDischarge,
  edAdmissionWeights,
  isolationCleanReason,
  isolationRate,
  maintenanceReasons,
  minute,
  sampleAdmitDecisionLeadMs,
  sampleStayMs,
  stepDownWeights,
  type FlowDepartment,
} from './demo/flows.ts';
import { admitNewPatient } from './demo/patients.ts';
import { Random } from './demo/random.ts';
import type { DepartmentKind, HospitalConfig } from './hospital-config.ts';
import { configuredBeds } from './seed/layout.ts';

export const simulatorActions = [
  'ed-arrival',
  'admit-decision',
  'ed-discharge',
  'reserve',
  'boarder-transfer',
  'admission',
  'transfer',
  'discharge',
  'cleaning-started',
  'cleaning-finished',
  'block',
  'unblock',
  'isolation',
] as const;
export type SimulatorAction = (typeof simulatorActions)[number];

export type StepOutcome =
  | { action: SimulatorAction; status: 'applied'; eventId: string }
  /** The domain said no (someone else changed the bed meanwhile...): a normal outcome. */
  | { action: SimulatorAction; status: 'refused'; error: MedaxisError }
  /** Anything else went wrong (database unreachable...): logged, and the loop carries on. */
  | { action: SimulatorAction | 'idle'; status: 'failed'; error: unknown }
  | { action: 'idle'; status: 'idle' };

export interface SimulatorOptions {
  db: Db;
  config: HospitalConfig;
  random?: Random;
  /** Occupancy of all beds the simulator steers towards. */
  targetOccupancy?: number;
  /** Pause between steps of the loop, drawn uniformly from this range. */
  delayMs?: readonly [number, number];
  onStep?: (outcome: StepOutcome) => void;
  now?: () => Date;
}

interface LiveBed {
  id: number;
  status: BedStatus;
  since: Date;
  encounterId: string | null;
  isolation: boolean;
  department: FlowDepartment;
  admitDecisionAt: Date | null;
  expectedDischargeAt: Date | null;
  /** The bed's patient is the demo's (seeded or simulated), not one from a feed or the UI. */
  demoPatient: boolean;
  /** Who blocked the bed (the source of its last block), when it is blocked. */
  blockedBy: string | null;
}

const source = 'simulator';

/** The sources whose patients and blocks are the demo's own: the simulator may move them. */
const demoSources = ['seed', source];

/**
 * A living demo hospital: every few seconds one realistic ADT or housekeeping action, through
 * the same commands a feed or the UI would send. It reads the hospital as it is before each
 * step, so it plays along with whatever else changes beds, and steers occupancy back towards
 * its target. A refused command is logged by the caller and the loop carries on.
 *
 * It keeps to the demo hospital: the beds config/hospital.json defines, in their configured
 * departments of the configured site, and none flagged for review. Departments a replay, an
 * import or a feed created (REPLAY-*, MIMIC wards, HL7 locations) share the database, not the
 * demo. Within its beds it moves, discharges and isolates only the demo's own patients and lifts
 * only the demo's own blocks: a patient a feed or a user placed, or a bed a user closed, stays
 * as they left it (their beds still count towards the occupancy it steers).
 */
export class AdtSimulator {
  readonly #db: Db;
  readonly #config: HospitalConfig;
  readonly #random: Random;
  readonly #target: number;
  readonly #delay: readonly [number, number];
  readonly #onStep: (outcome: StepOutcome) => void;
  readonly #now: () => Date;
  #loop: Promise<void> | undefined;
  /** Every simulated admission, move and discharge is an audited write (flushed on stop). */
  readonly #audit: AuditWriter;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(options: SimulatorOptions) {
    this.#db = options.db;
    this.#audit = auditWriterFor(options.db);
    this.#config = options.config;
    this.#random = options.random ?? new Random();
    this.#target = options.targetOccupancy ?? 0.85;
    this.#delay = options.delayMs ?? [1000, 4000];
    this.#onStep = options.onStep ?? (() => {});
    this.#now = options.now ?? (() => new Date());
  }

  /** Runs steps until `stop()`; returns at once. */
  start(): void {
    this.#stopping = false;
    this.#loop ??= this.#run();
  }

  /** Finishes the step in progress, if any, and resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    await this.#audit.flush();
  }

  async #run() {
    while (!this.#stopping) {
      this.#onStep(await this.step());
      if (this.#stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#random.uniform(...this.#delay));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One action chosen from the hospital's current state. Never throws. */
  async step(): Promise<StepOutcome> {
    let action: SimulatorAction | undefined;
    try {
      const hospital = await this.#read();
      const actions = this.#plan(hospital);
      action = this.#random.weighted(
        Object.fromEntries(
          Object.entries(actions).map(([name, planned]) => [name, planned.weight]),
        ) as Record<SimulatorAction, number>,
      );
      if (!action) return { action: 'idle', status: 'idle' };
      const eventId = await actions[action]!.run();
      return { action, status: 'applied', eventId };
    } catch (error) {
      if (action && isMedaxisError(error)) return { action, status: 'refused', error };
      return { action: action ?? 'idle', status: 'failed', error };
    }
  }

  // ---- reading the hospital ------------------------------------------------------------------

  async #read(): Promise<LiveBed[]> {
    const own = configuredBeds(this.#config);
    const { rows } = await this.#db.query<
      Omit<LiveBed, 'department'> & {
        departmentId: number;
        departmentCode: string;
        kind: DepartmentKind;
      }
    >(
      // A block's source is read only for blocked beds, from the bed's latest block event
      // (the department's event index narrows the search).
      `SELECT b.id, b.status::text AS status, b.status_since AS since,
              b.encounter_id AS "encounterId", b.isolation,
              d.id AS "departmentId", d.code AS "departmentCode", d.kind::text AS kind,
              e.admit_decision_at AS "admitDecisionAt",
              e.expected_discharge_at AS "expectedDischargeAt",
              coalesce(e.source_system = ANY($4::text[]), false) AS "demoPatient",
              CASE WHEN b.status = 'blocked' THEN
                (SELECT v.source FROM event v
                  WHERE v.department_id = d.id AND v.bed_id = b.id AND v.type = 'block'
                  ORDER BY v.id DESC LIMIT 1) END AS "blockedBy"
         FROM unnest($1::text[], $2::text[]) AS own(bed_code, department_code)
         JOIN bed b ON b.code = own.bed_code AND NOT b.needs_review
         JOIN room r ON r.id = b.room_id
         JOIN department d
           ON d.id = r.department_id AND d.code = own.department_code AND NOT d.needs_review
         JOIN site s ON s.id = d.site_id AND s.code = $3
         LEFT JOIN encounter e ON e.id = b.encounter_id
        ORDER BY b.id`,
      [
        own.map((bed) => bed.code),
        own.map((bed) => bed.departmentCode),
        this.#config.site.code,
        demoSources,
      ],
    );
    const departments = new Map<number, FlowDepartment>();
    for (const row of rows) {
      let department = departments.get(row.departmentId);
      if (!department) {
        const configured = this.#config.departments.find((d) => d.code === row.departmentCode)!;
        department = {
          id: row.departmentId,
          code: row.departmentCode,
          kind: row.kind,
          averageStayDays: configured.averageStayDays,
          bedCount: 0,
        };
        departments.set(row.departmentId, department);
      }
      department.bedCount += 1;
    }
    return rows.map((row) => ({ ...row, department: departments.get(row.departmentId)! }));
  }

  // ---- choosing an action ----------------------------------------------------------------------

  /** Every action possible now, with its weight and how to carry it out. */
  #plan(beds: LiveBed[]) {
    const now = this.#now();
    const random = this.#random;
    const minutesIn = (bed: LiveBed) => (now.getTime() - bed.since.getTime()) / minute;
    const isEd = (bed: LiveBed) => bed.department.kind === 'emergency';
    const is = (status: BedStatus) => (bed: LiveBed) => bed.status === status;
    const oldest = (list: LiveBed[]) => list.reduce((a, b) => (b.since < a.since ? b : a));

    const ed = beds.filter(isEd);
    const wards = beds.filter((bed) => !isEd(bed));
    const edFree = ed.filter(is(BedStatus.free));
    const edPatients = ed.filter(is(BedStatus.occupied));
    const demoEdPatients = edPatients.filter((bed) => bed.demoPatient);
    const undecided = demoEdPatients.filter((bed) => !bed.admitDecisionAt && minutesIn(bed) >= 1);
    const boarders = demoEdPatients.filter((bed) => bed.admitDecisionAt);
    const reservedFor = new Map(
      beds.filter(is(BedStatus.reserved)).map((bed) => [bed.encounterId!, bed]),
    );
    const boardersWithBed = boarders.filter((bed) => reservedFor.has(bed.encounterId!));
    const boardersWaiting = boarders.filter((bed) => !reservedFor.has(bed.encounterId!));
    const wardFree = wards.filter(is(BedStatus.free));
    const inpatients = wards.filter((bed) => bed.status === BedStatus.occupied && bed.demoPatient);
    const housekeeping = beds.filter(is(BedStatus.housekeeping));
    const cleaned = beds.filter((bed) => bed.status === BedStatus.cleaning && minutesIn(bed) >= 2);
    const blocked = beds.filter(is(BedStatus.blocked));
    const unblockable = blocked.filter(
      (bed) => minutesIn(bed) >= 5 && demoSources.includes(bed.blockedBy ?? ''),
    );

    // Positive when too full: admissions slow down and discharges speed up.
    const drift =
      beds.filter(is(BedStatus.occupied)).length / Math.max(1, beds.length) - this.#target;
    const edDrift = edPatients.length / Math.max(1, ed.length) - 0.8;
    const clamp = (value: number) => Math.min(3, Math.max(0.1, value));
    const departments = [...new Set(beds.map((bed) => bed.department))];
    const withFreeBeds = (weights: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(weights).map(([code, w]) => [
          code,
          wardFree.some((bed) => bed.department.code === code) ? w : 0,
        ]),
      );

    const command = (run: Command) =>
      executeCommand(this.#db, run, {
        source,
        options: liveCommandOptions(now),
        audit: this.#audit,
      }).then((result) => result.eventId);
    const admit = async (bed: LiveBed, kind: 'inpatient' | 'emergency') => {
      const result = await admitNewPatient(
        this.#db,
        random,
        this.#config.site.code,
        {
          class: kind,
          departmentId: bed.department.id,
          departmentKind: bed.department.kind,
          // A direct admission was decided before the patient came; an ED patient's decision
          // comes later, in the ED (admit-decision).
          admitDecisionAt:
            kind === 'inpatient'
              ? new Date(now.getTime() - sampleAdmitDecisionLeadMs(random, bed.department.kind))
              : null,
          expectedDischargeAt:
            kind === 'inpatient'
              ? new Date(
                  daytimeDischarge(
                    random,
                    now.getTime() + sampleStayMs(random, bed.department),
                    this.#config.site.timeZone,
                  ),
                )
              : null,
          sourceSystem: source,
        },
        { bedId: bed.id, at: now },
        { source, options: liveCommandOptions(now), audit: this.#audit },
      );
      if (kind === 'inpatient' && random.chance(isolationRate)) {
        return command({ type: 'set-isolation', bedId: bed.id, isolation: true, at: now });
      }
      return result.eventId;
    };
    /** Longer waits are likelier to end next. */
    const longestWaiting = (list: LiveBed[]) =>
      random.chance(0.6) ? oldest(list) : random.pick(list);

    const actions: Partial<Record<SimulatorAction, { weight: number; run(): Promise<string> }>> =
      {};
    const offer = (action: SimulatorAction, weight: number, run: () => Promise<string>) => {
      if (weight > 0) actions[action] = { weight, run };
    };

    offer('ed-arrival', edFree.length > 0 ? clamp(1 - 6 * edDrift) : 0, () =>
      admit(random.pick(edFree), 'emergency'),
    );
    offer('admit-decision', undecided.length * 0.02, () =>
      recordAdmitDecision(this.#db, {
        encounterId: longestWaiting(undecided).encounterId!,
        at: now,
        source,
        audit: this.#audit,
      }),
    );
    offer('ed-discharge', undecided.length * 0.035, () =>
      command({ type: 'discharge', encounterId: longestWaiting(undecided).encounterId!, at: now }),
    );

    const edTargets = withFreeBeds(edAdmissionWeights(departments));
    const anyTarget = Object.values(edTargets).some((w) => w > 0);
    offer('reserve', anyTarget ? boardersWaiting.length * 0.15 : 0, () => {
      const target = random.weighted(edTargets)!;
      const bed = random.pick(wardFree.filter((b) => b.department.code === target));
      const boarder = oldest(boardersWaiting);
      return command({
        type: 'reserve',
        bedId: bed.id,
        encounterId: boarder.encounterId!,
        at: now,
      });
    });
    offer('boarder-transfer', boardersWithBed.length * 0.2, () => {
      const boarder = random.pick(boardersWithBed);
      const bed = reservedFor.get(boarder.encounterId!)!;
      return command({
        type: 'transfer',
        encounterId: boarder.encounterId!,
        bedId: bed.id,
        at: now,
      });
    });

    offer('admission', wardFree.length > 0 ? clamp(1 - 12 * drift) : 0, () =>
      admit(random.pick(wardFree), 'inpatient'),
    );
    const transfers = this.#transfers(inpatients, wardFree, departments);
    offer('transfer', transfers.length > 0 ? 0.25 : 0, () => {
      const { patient, to } = random.pick(transfers);
      return command({
        type: 'transfer',
        encounterId: patient.encounterId!,
        bedId: to.id,
        at: now,
      });
    });
    offer('discharge', inpatients.length > 0 ? clamp(1.2 + 12 * drift) : 0, () => {
      // Prefer patients past their expected discharge: the board's pending discharges.
      const overdue = inpatients.filter(
        (bed) => bed.expectedDischargeAt && bed.expectedDischargeAt < now,
      );
      const patient =
        overdue.length > 0 && random.chance(0.7)
          ? overdue.reduce((a, b) => (b.expectedDischargeAt! < a.expectedDischargeAt! ? b : a))
          : random.pick(inpatients);
      return command({ type: 'discharge', encounterId: patient.encounterId!, at: now });
    });

    offer('cleaning-started', housekeeping.length * 0.25, () => {
      const bed = oldest(housekeeping);
      // After an isolated patient the room gets a terminal clean, with the bed blocked.
      return bed.isolation
        ? command({ type: 'block', bedId: bed.id, reason: isolationCleanReason, at: now })
        : command({ type: 'cleaning-started', bedId: bed.id, at: now });
    });
    offer('cleaning-finished', cleaned.length * 0.35, () =>
      command({ type: 'cleaning-finished', bedId: oldest(cleaned).id, at: now }),
    );
    const maintainable = wardFree.filter((bed) => !bed.isolation);
    offer(
      'block',
      maintainable.length > 0 ? (blocked.length < beds.length * 0.02 ? 0.05 : 0.01) : 0,
      () =>
        command({
          type: 'block',
          bedId: random.pick(maintainable).id,
          reason: random.pick(maintenanceReasons),
          at: now,
        }),
    );
    offer('unblock', unblockable.length * 0.03, async () => {
      const bed = oldest(unblockable);
      const eventId = await command({ type: 'unblock', bedId: bed.id, at: now });
      if (!bed.isolation) return eventId;
      return command({ type: 'set-isolation', bedId: bed.id, isolation: false, at: now });
    });
    const notIsolated = inpatients.filter((bed) => !bed.isolation);
    offer('isolation', notIsolated.length > 0 ? 0.03 : 0, () =>
      command({
        type: 'set-isolation',
        bedId: random.pick(notIsolated).id,
        isolation: true,
        at: now,
      }),
    );
    return actions;
  }

  /** Moves that make sense now: ICU step-downs to a ward, room moves within a ward. */
  #transfers(inpatients: LiveBed[], free: LiveBed[], departments: FlowDepartment[]) {
    const stepDown = stepDownWeights(departments);
    const moves: { patient: LiveBed; to: LiveBed }[] = [];
    for (const patient of inpatients) {
      const candidates =
        patient.department.kind === 'icu'
          ? free.filter((bed) => (stepDown[bed.department.code] ?? 0) > 0)
          : free.filter((bed) => bed.department === patient.department);
      const to = candidates[0];
      if (to) moves.push({ patient, to: this.#random.pick(candidates) });
    }
    return moves;
  }
}
