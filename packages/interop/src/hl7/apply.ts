import {
  ensureAndLockFeedEncounter,
  ensureBed,
  ensureDepartment,
  ensureFeedPractitioner,
  ensurePatient,
  ensureRoom,
  feedContextStatements,
  findEncounterBySource,
  findFeedContext,
  findPatientByIdentifier,
  getSite,
  insertPatient,
  mergePatients,
  readFeedContext,
  stageCommand,
  updateEncounterDetails,
  updatePatientIdentity,
  type EventInput,
  type FeedEncounterState,
  type FeedWorldRequest,
  type LoadedWorld,
  type Statement,
  type Tx,
} from '@medaxis/db';
import {
  ErrorCode,
  isMedaxisError,
  liveCommandOptions,
  MedaxisError,
  type Command,
  type DecideOptions,
} from '@medaxis/domain';

import { medaxisId } from '../fhir/codes.ts';
import type {
  AttendingRef,
  EncounterClass,
  LocationRef,
  MergePlan,
  PatientRef,
  SwapPlan,
  VisitAction,
  VisitPlan,
  AdtPlan,
  VisitRef,
} from './plan.ts';

export const hl7Source = 'hl7';

export interface ApplyContext {
  messageId: string;
  now: Date;
}

export interface ApplyResult {
  /**
   * Events the message produced (none for demographics, merges, or nothing to do), in order,
   * not yet appended: the caller appends them before its commit (appendEventsStatement).
   */
  events: EventInput[];
  /** Whose data the message wrote: for the audit trail. */
  patientIds: string[];
  encounterIds: string[];
  /** What was accepted but not applied, or applied differently than the event says. */
  notes: string[];
}

/**
 * Applies a plan inside the caller's transaction, through the same domain commands as the UI
 * (staged: their events are the caller's to append). Throws MedaxisError when the hospital's
 * state refuses it; the caller rolls back then, so a refused message leaves no patient,
 * visit or location behind.
 */
export async function applyPlan(
  tx: Tx,
  plan: AdtPlan,
  context: ApplyContext,
  opening?: readonly { rows: unknown[] }[],
) {
  const result: ApplyResult = {
    events: [],
    patientIds: [],
    encounterIds: [],
    notes: [...plan.notes],
  };
  switch (plan.kind) {
    case 'visit':
      await applyVisit(tx, plan, context, result, opening);
      break;
    case 'swap':
      await applySwap(tx, plan, context, result);
      break;
    case 'merge':
      await applyMerge(tx, plan, context, result);
      break;
  }
  return result;
}

/**
 * The statements applyPlan opens with (a visit's lookup, which also locks the visit), for a
 * caller that sends them in a round trip of its own, after its own statements, and passes
 * their results to applyPlan as `opening`: one round trip fewer per message.
 */
export function openingStatements(plan: AdtPlan): Statement[] {
  if (plan.kind !== 'visit') return [];
  return feedContextStatements(
    plan.patient,
    plan.location,
    visitKey(plan.visit),
    worldRequest(plan),
  );
}

/**
 * Actions that may become a bed command: their lookup also locks and reads what the command
 * decides on (packages/db FeedWorldRequest), which spares the command a round trip.
 */
const runsCommand: ReadonlySet<VisitAction> = new Set([
  'admit',
  'transfer',
  'discharge',
  'register',
  'to-inpatient',
  'preadmit',
  'cancel-admit',
  'cancel-transfer',
  'cancel-discharge',
]);

function worldRequest(plan: VisitPlan): FeedWorldRequest | undefined {
  return runsCommand.has(plan.action) ? { bedCode: plan.location?.bedCode ?? null } : undefined;
}

function visitKey(visit: VisitRef) {
  return visit.sourceRef === null
    ? undefined
    : { sourceSystem: visit.sourceSystem, sourceRef: visit.sourceRef };
}

/**
 * Feeds are authoritative about where patients lie: they may put a patient in a bed that has
 * not been cleaned yet (the UI may not). Live limits on future event times still apply.
 */
export function feedCommandOptions(now: Date): DecideOptions {
  return { ...liveCommandOptions(now), allowUncleanedBed: true };
}

/** Actions that create the patient and the visit when the feed has not mentioned them yet. */
const createsVisit: ReadonlySet<VisitAction> = new Set([
  'admit',
  'transfer',
  'register',
  'preadmit',
  'to-inpatient',
  'to-outpatient',
  'update',
]);

/** Actions that put the visit into the bed PV1-3 names (and so may create that bed). */
const placesInBed: ReadonlySet<VisitAction> = new Set([
  'admit',
  'transfer',
  'register',
  'preadmit',
  'to-inpatient',
]);

async function applyVisit(
  tx: Tx,
  plan: VisitPlan,
  context: ApplyContext,
  result: ApplyResult,
  opening: readonly { rows: unknown[] }[] | undefined,
) {
  const { action, visit } = plan;

  // Load: the patient, the visit, the bed (one round trip serves the patient, the new visit's
  // department, the bed it goes to, and locks the visit with what a command on it decides on).
  const known = opening
    ? readFeedContext(opening)
    : await findFeedContext(tx, plan.patient, plan.location, visitKey(visit), worldRequest(plan));
  const patientId =
    known.patientId ??
    (createsVisit.has(action) ? await createPatient(tx, plan.patient) : undefined);
  if (patientId) result.patientIds.push(patientId);
  if (action === 'update' && patientId) {
    await updatePatientIdentity(tx, patientId, plan.patient);
  }
  if (visit.sourceRef === null) {
    // Only register, pre-admit and update get here without a visit number (plan.ts).
    note(result, 'no visit number (PV1-19 or PID-18): patient recorded, no visit');
    return;
  }
  const resolved = await resolveEncounter(tx, plan, patientId, known);
  const { encounter } = resolved;
  result.encounterIds.push(encounter.id);
  // What the lookup loaded serves the first command only: the command writes.
  let loaded = resolved.world;
  const run = (command: Command) => {
    const world = loaded;
    loaded = undefined;
    return runCommand(tx, command, context, result, world);
  };
  const location = plan.location
    ? await resolveLocation(tx, plan.location, known, plan.at, {
        create: placesInBed.has(action),
      })
    : undefined;
  if (createsVisit.has(action)) {
    const details = {
      class: classFor(action, visit.encounterClass),
      departmentId: location?.departmentId ?? null,
      expectedDischargeAt: visit.expectedDischargeAt,
      attendingId: visit.attending ? await resolveAttending(tx, visit.attending) : null,
    };
    // Most messages repeat what the visit already says: no write (and no round trip) then.
    if (changesDetails(encounter, details)) {
      await updateEncounterDetails(tx, encounter.id, details);
    }
  }
  const bedId = location?.bedId ?? null;
  const at = plan.at;
  if (movesPatients.has(action)) checkNotLate(encounter, at);

  // Decide which domain command the event is, given where the visit lies now.
  switch (action) {
    case 'admit':
    case 'register':
    case 'to-inpatient':
      if (bedId === null) {
        note(result, 'no bed in PV1-3: visit recorded without a bed stay');
      } else if (encounter.bedId === bedId) {
        note(result, 'already in this bed');
      } else if (encounter.bedId !== null) {
        note(result, 'the visit already lay in another bed: applied as a transfer');
        await run({ type: 'transfer', encounterId: encounter.id, bedId, at });
      } else {
        await run({ type: 'admit', encounterId: encounter.id, bedId, at });
      }
      return;
    case 'transfer':
      if (bedId === null) {
        throw new MedaxisError(ErrorCode.validation, 'no_bed_location', 'PV1-3 names no bed.');
      } else if (encounter.bedId === bedId) {
        note(result, 'already in this bed');
      } else if (encounter.bedId === null) {
        note(result, 'the visit was in no bed: applied as an admission');
        await run({ type: 'admit', encounterId: encounter.id, bedId, at });
      } else {
        await run({ type: 'transfer', encounterId: encounter.id, bedId, at });
      }
      return;
    case 'discharge':
      if (encounter.bedId !== null) {
        await run({ type: 'discharge', encounterId: encounter.id, at });
      } else if (
        encounter.class === 'inpatient' &&
        encounter.status === 'planned' &&
        encounter.lastBedChangeAt === null
      ) {
        // An inpatient visit that was never in a bed (pre-admitted, or its admission cancelled)
        // has no stay to end: most likely its A01 is still on its way, out of order. Acknowledged
        // as a no-op, the discharge would be lost when that A01 applied (the patient left in the
        // bed); refused, it is kept with the dead letters, to reprocess once the A01 is in. An
        // ED or outpatient visit in no bed (the waiting room) still ends with a note below.
        throw new MedaxisError(
          ErrorCode.conflict,
          'not_admitted',
          'The inpatient visit has not been admitted to a bed: nothing to discharge yet. ' +
            'Kept: reprocess it once the admission (A01) has applied.',
        );
      } else {
        note(
          result,
          encounter.status === 'finished'
            ? 'already discharged'
            : 'the visit is in no bed: no stay to end, visit status unchanged',
        );
      }
      return;
    case 'preadmit':
      if (bedId !== null && encounter.bedId === null) {
        await reserveIfFree(
          tx,
          { type: 'reserve', bedId, encounterId: encounter.id, at },
          run,
          result,
        );
      }
      return;
    case 'to-outpatient':
      if (encounter.bedId !== null) note(result, 'now outpatient: the bed stay goes on until A03');
      return;
    case 'update':
      if (bedId !== null && encounter.bedId !== bedId) {
        note(result, 'PV1-3 differs from the bed the visit lies in: A08 moves no one');
      }
      return;
    case 'cancel-admit':
      await run({ type: 'cancel-admit', encounterId: encounter.id, at });
      return;
    case 'cancel-transfer':
      await run({ type: 'cancel-transfer', encounterId: encounter.id, at });
      return;
    case 'cancel-discharge':
      await run({ type: 'cancel-discharge', encounterId: encounter.id, at });
      return;
  }
}

async function applySwap(tx: Tx, plan: SwapPlan, context: ApplyContext, result: ApplyResult) {
  const [first, second] = await Promise.all(
    plan.sides.map(async (side) => {
      const id = await findEncounterBySource(tx, side.visit.sourceSystem, side.visit.sourceRef!);
      if (!id) throw unknownVisit();
      return id;
    }),
  );
  result.encounterIds.push(first!, second!);
  await runCommand(
    tx,
    { type: 'swap', encounterId: first!, otherEncounterId: second!, at: plan.at },
    context,
    result,
  );
}

/**
 * A40, kept minimal: the surviving patient (PID) keeps its identity; the prior identifier
 * (MRG-1) becomes an alias of it, so later messages naming it reach the survivor; the prior
 * patient's visits and stays move to the survivor. No bed changes, so no board event.
 */
async function applyMerge(tx: Tx, plan: MergePlan, context: ApplyContext, result: ApplyResult) {
  for (const merge of plan.merges) {
    const survivorId = await resolvePatient(tx, merge.survivor);
    const priorId = await findPatientByIdentifier(tx, merge.prior.authority, merge.prior.mrn);
    result.patientIds.push(survivorId, ...(priorId ? [priorId] : []));
    if (priorId === survivorId) {
      note(result, 'already merged');
      continue;
    }
    const moved = await mergePatients(tx, {
      survivorId,
      priorId: priorId ?? null,
      prior: merge.prior,
      messageId: context.messageId,
    });
    note(
      result,
      priorId
        ? `merged: ${moved} visit(s) moved to the surviving patient`
        : 'prior identifier unknown here: kept as an alias of the surviving patient',
    );
  }
}

/** Whether updateEncounterDetails would change anything (it keeps what a null leaves out). */
function changesDetails(
  encounter: FeedEncounterState,
  details: {
    class: string | null;
    departmentId: number | null;
    expectedDischargeAt: Date | null;
    attendingId: string | null;
  },
) {
  return (
    // The visit's state does not carry its attending: a message naming one always writes it.
    details.attendingId !== null ||
    (details.class !== null && details.class !== encounter.class) ||
    (details.departmentId !== null && details.departmentId !== encounter.departmentId) ||
    (details.expectedDischargeAt !== null &&
      details.expectedDischargeAt.getTime() !== encounter.expectedDischargeAt?.getTime())
  );
}

/** Actions that move a patient into, between or out of beds. */
const movesPatients: ReadonlySet<VisitAction> = new Set([
  'admit',
  'transfer',
  'discharge',
  'register',
  'to-inpatient',
]);

/**
 * The late-event rule (docs/hl7.md): events apply in the order they arrive, each at its own
 * event time, and one dated before the last bed change of its visit is not applied: it would
 * have to rewrite stays that later events built on. It is refused (AE, before_current_state)
 * and kept, so it can be reprocessed once someone has looked at it. Cancels are checked by the
 * state machine against what they cancel.
 */
function checkNotLate(encounter: FeedEncounterState, at: Date) {
  if (encounter.lastBedChangeAt && at.getTime() < encounter.lastBedChangeAt.getTime()) {
    throw new MedaxisError(
      ErrorCode.badEventTime,
      'before_current_state',
      `Event time ${at.toISOString()} is before the visit's last bed change ` +
        `(${encounter.lastBedChangeAt.toISOString()}).`,
    );
  }
}

// ---- resolution ------------------------------------------------------------------------------

/** A patient findFeedContext found under no identifier: created (or found, if just created). */
async function createPatient(tx: Tx, patient: PatientRef): Promise<string> {
  return (await insertPatient(tx, patient)) ?? ensurePatient(tx, patient);
}

/** The patient an identifier names (following A40 aliases), created when new. */
async function resolvePatient(tx: Tx, patient: PatientRef): Promise<string> {
  const known = await findPatientByIdentifier(tx, patient.authority, patient.mrn);
  return known ?? ensurePatient(tx, patient);
}

/**
 * The visit findFeedContext found and locked, else created (if the action may) and locked,
 * with what a command on it decides on when the plan asked for it.
 */
async function resolveEncounter(
  tx: Tx,
  plan: VisitPlan,
  patientId: string | undefined,
  known: {
    encounter: FeedEncounterState | undefined;
    world: LoadedWorld | undefined;
    departmentId: number | undefined;
  },
): Promise<{ encounter: FeedEncounterState; world: LoadedWorld | undefined }> {
  const { action, visit } = plan;
  let { encounter, world } = known;
  if (!encounter) {
    if (!createsVisit.has(action) || !patientId) throw unknownVisit();
    ({ encounter, world } = await ensureAndLockFeedEncounter(
      tx,
      {
        patientId,
        class: classFor(action, visit.encounterClass) ?? 'inpatient',
        departmentId: known.departmentId ?? null,
        sourceSystem: visit.sourceSystem,
        sourceRef: visit.sourceRef!,
      },
      worldRequest(plan),
    ));
  }
  if (!encounter) throw unknownVisit();
  if (encounter.patientId !== patientId) {
    // A visit number reused for another patient: applying it would move the wrong person.
    throw new MedaxisError(
      ErrorCode.conflict,
      'visit_of_another_patient',
      'The visit number in PV1-19 belongs to another patient than PID-3 names.',
    );
  }
  return { encounter, world };
}

/**
 * The department and bed of PV1-3. A location not configured yet is created on first use by
 * the actions that put a patient there, flagged for review (needs_review); the new bed's
 * history starts at the event, so the event applies to it.
 */
async function resolveLocation(
  tx: Tx,
  location: LocationRef,
  known: { departmentId: number | undefined; bedId: number | undefined },
  at: Date,
  options: { create: boolean },
): Promise<{ departmentId: number | null; bedId: number | null }> {
  const { bedId } = known;
  let { departmentId } = known;
  if (bedId !== undefined || !options.create) {
    return { departmentId: departmentId ?? null, bedId: bedId ?? null };
  }

  if (departmentId === undefined) {
    const site = await getSite(tx);
    if (!site) {
      throw new MedaxisError(
        ErrorCode.notFound,
        'no_site',
        'No site is configured: locations cannot be created.',
      );
    }
    departmentId = await ensureDepartment(tx, site.id, {
      code: location.departmentCode,
      name: location.departmentName,
      kind: 'other',
      sortOrder: 1000,
      needsReview: true,
    });
  }
  if (location.bedCode === null) return { departmentId, bedId: null };
  const roomId = await ensureRoom(tx, departmentId, location.roomCode);
  return {
    departmentId,
    bedId: await ensureBed(tx, { roomId, code: location.bedCode, since: at, needsReview: true }),
  };
}

/** PV1-7's doctor as a practitioner: found by id within its authority, else created. */
function resolveAttending(tx: Tx, doctor: AttendingRef): Promise<string> {
  return ensureFeedPractitioner(tx, {
    id: medaxisId('Practitioner', `${doctor.authority}|${doctor.id}`),
    identifier: { system: doctor.authority, value: doctor.id },
    familyName: doctor.familyName,
    givenName: doctor.givenName,
    prefix: doctor.prefix,
  });
}

function classFor(action: VisitAction, fromPv1: EncounterClass | null): EncounterClass | null {
  if (action === 'to-inpatient') return 'inpatient';
  if (action === 'to-outpatient') return 'outpatient';
  if (fromPv1) return fromPv1;
  if (action === 'register') return 'outpatient';
  return null;
}

// ---- commands --------------------------------------------------------------------------------

async function runCommand(
  tx: Tx,
  command: Command,
  context: ApplyContext,
  result: ApplyResult,
  loaded?: LoadedWorld,
) {
  const staged = await stageCommand(
    tx,
    command,
    { source: hl7Source, options: feedCommandOptions(context.now) },
    loaded,
  );
  result.events.push(staged.event);
}

/** A05's bed is a wish: reserved when free, else noted; the pre-admission stands either way. */
async function reserveIfFree(
  tx: Tx,
  command: Command,
  run: (command: Command) => Promise<void>,
  result: ApplyResult,
) {
  await tx.query('SAVEPOINT hl7_reserve');
  try {
    await run(command);
    await tx.query('RELEASE SAVEPOINT hl7_reserve');
  } catch (error) {
    if (!isMedaxisError(error)) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT hl7_reserve');
    note(result, `bed in PV1-3 not reserved: ${error.reason}`);
  }
}

function note(result: ApplyResult, text: string) {
  if (!result.notes.includes(text)) result.notes.push(text);
}

function unknownVisit() {
  return new MedaxisError(
    ErrorCode.notFound,
    'unknown_encounter',
    'No visit is known under this visit number (PV1-19) from this sender.',
  );
}
