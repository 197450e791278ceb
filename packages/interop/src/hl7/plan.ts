import { ErrorCode, MedaxisError } from '@medaxis/domain';

import { chooseEventType } from './event-type.ts';
import type { Identifier, Location, PatientGroup, ReadMessage } from './message.ts';
import { parseHl7Date, parseHl7Timestamp, timestampOffset } from './timestamp.ts';

/** The ADT trigger events MedAxis applies; any other message is stored as unsupported. */
export const supportedAdtEvents = [
  'A01',
  'A02',
  'A03',
  'A04',
  'A05',
  'A06',
  'A07',
  'A08',
  'A11',
  'A12',
  'A13',
  'A17',
  'A40',
] as const;
export type SupportedAdtEvent = (typeof supportedAdtEvents)[number];

/** What a visit event asks for, before the state of the hospital is known. */
export const VisitAction = {
  A01: 'admit',
  A02: 'transfer',
  A03: 'discharge',
  A04: 'register',
  A05: 'preadmit',
  A06: 'to-inpatient',
  A07: 'to-outpatient',
  A08: 'update',
  A11: 'cancel-admit',
  A12: 'cancel-transfer',
  A13: 'cancel-discharge',
} as const;
export type VisitAction = (typeof VisitAction)[keyof typeof VisitAction];

export type EncounterClass = 'inpatient' | 'emergency' | 'outpatient' | 'observation';

export interface PatientRef {
  mrn: string;
  authority: string;
  familyName: string | null;
  givenName: string | null;
  birthDate: string | null;
  sex: string | null;
}

export interface VisitRef {
  sourceSystem: string;
  /** PV1-19 visit number, else `account:` + PID-18; null when the message has neither. */
  sourceRef: string | null;
  /** PV1-2 mapped onto MedAxis, null when absent or not telling (N, U). */
  encounterClass: EncounterClass | null;
  expectedDischargeAt: Date | null;
  /** PV1-7, when it names a doctor by id. */
  attending: AttendingRef | null;
}

/** The attending doctor of PV1-7 (XCN), within its assigning authority (else the sender's). */
export interface AttendingRef {
  id: string;
  authority: string;
  familyName: string | null;
  givenName: string | null;
  prefix: string | null;
}

/** A location from PV1-3: a bed when it names one, else just a department. */
export interface LocationRef {
  departmentCode: string;
  departmentName: string;
  roomCode: string;
  /** DEPT-ROOM-BED, as the seed and the bed labels write it; null without PV1-3.3. */
  bedCode: string | null;
}

export interface VisitPlan {
  kind: 'visit';
  event: SupportedAdtEvent;
  action: VisitAction;
  patient: PatientRef;
  visit: VisitRef;
  location: LocationRef | null;
  at: Date;
  notes: string[];
}

export interface SwapPlan {
  kind: 'swap';
  event: 'A17';
  sides: [{ patient: PatientRef; visit: VisitRef }, { patient: PatientRef; visit: VisitRef }];
  at: Date;
  notes: string[];
}

export interface MergePlan {
  kind: 'merge';
  event: 'A40';
  merges: { survivor: PatientRef; prior: { mrn: string; authority: string } }[];
  at: Date;
  notes: string[];
}

export type AdtPlan = VisitPlan | SwapPlan | MergePlan;

/** The outcome of reading: a plan to apply, or a message MedAxis does not handle. */
export type PlanResult =
  | { kind: 'plan'; plan: AdtPlan; eventType: string; rule: string; eventTime: Date }
  | {
      kind: 'unsupported';
      reason: 'unsupported_message_type' | 'unsupported_event';
      eventType: string | null;
      rule: string | null;
    };

export interface PlanContext {
  /** The hospital's IANA time zone, for timestamps that carry no offset. */
  timeZone: string;
  now: Date;
}

/**
 * Turns a read message into what it asks MedAxis to do. Pure: the hospital's state is not
 * consulted here (see apply.ts). Throws MedaxisError (VALIDATION) for a message that cannot
 * be applied whatever the state: those are answered AR.
 */
export function planMessage(message: ReadMessage, context: PlanContext): PlanResult {
  const chosen = chooseEventType(message);
  if (message.header.messageType !== 'ADT') {
    return {
      kind: 'unsupported',
      reason: 'unsupported_message_type',
      eventType: chosen?.eventType ?? null,
      rule: chosen?.rule ?? null,
    };
  }
  if (!chosen) {
    throw invalid('no_trigger_event', 'Neither MSH-9.2 nor EVN-1 names the trigger event.');
  }
  const event = chosen.eventType;
  if (!isSupported(event)) {
    return {
      kind: 'unsupported',
      reason: 'unsupported_event',
      eventType: event,
      rule: chosen.rule,
    };
  }

  const at = eventTime(message, context);
  const plan = buildPlan(message, event, at, context);
  return { kind: 'plan', plan, eventType: event, rule: chosen.rule, eventTime: at };
}

function isSupported(event: string): event is SupportedAdtEvent {
  return (supportedAdtEvents as readonly string[]).includes(event);
}

function buildPlan(
  message: ReadMessage,
  event: SupportedAdtEvent,
  at: Date,
  context: PlanContext,
): AdtPlan {
  const notes: string[] = [];
  const source = sourceSystem(message);
  const authority = defaultAuthority(message);
  const offset = timestampOffset(message.header.messageTime);

  if (event === 'A40') {
    const merges = message.groups.map((group, index) => {
      const prior = group.mrg ? chooseIdentifier(group.mrg.identifiers) : undefined;
      if (!prior) {
        throw invalid('no_prior_identifier', `MRG-1 of merge ${index + 1} names no patient.`);
      }
      return {
        survivor: patientRef(group, authority, context.now, notes),
        prior: { mrn: prior.id, authority: prior.authority || authority },
      };
    });
    if (merges.length === 0) throw invalid('no_patient', 'The message has no PID segment.');
    return { kind: 'merge', event, merges, at, notes };
  }

  const visitOf = (group: PatientGroup) => ({
    patient: patientRef(group, authority, context.now, notes),
    visit: visitRef(group, source, { offset, timeZone: context.timeZone }, notes),
  });

  if (event === 'A17') {
    const [first, second] = message.groups;
    if (!first || !second) {
      throw invalid('swap_needs_two_patients', 'A17 needs two PID/PV1 groups.');
    }
    const sides: SwapPlan['sides'] = [visitOf(first), visitOf(second)];
    if (sides.some((side) => side.visit.sourceRef === null)) {
      throw invalid('no_visit_number', 'Each patient of an A17 needs a visit number (PV1-19).');
    }
    return { kind: 'swap', event, sides, at, notes };
  }

  const group = message.groups[0];
  if (!group) throw invalid('no_patient', 'The message has no PID segment.');
  const action = VisitAction[event];
  const location = group.pv1 ? locationRef(group.pv1.assignedLocation, notes) : null;
  const plan: VisitPlan = { kind: 'visit', event, action, ...visitOf(group), location, at, notes };
  if (plan.visit.sourceRef === null && !patientLevelActions.has(action)) {
    throw invalid(
      'no_visit_number',
      'Neither PV1-19 (visit number) nor PID-18 (account) is given.',
    );
  }
  if (action === 'transfer' && !location?.bedCode) {
    throw invalid('no_bed_location', 'A02 needs the new bed in PV1-3 (point of care, room, bed).');
  }
  return plan;
}

/** Events that still mean something without a visit: the patient alone is recorded. */
const patientLevelActions: ReadonlySet<VisitAction> = new Set(['register', 'preadmit', 'update']);

/**
 * The event time (docs/hl7.md, "Times"): EVN-6 (when it happened) if given, else EVN-2 (when
 * the sender recorded it), else MSH-7 (when the message was built). The first one present is
 * used; if it cannot be read the message is rejected rather than dated by a weaker field.
 * Times without an offset take MSH-7's offset, else the hospital's zone.
 */
function eventTime(message: ReadMessage, context: PlanContext): Date {
  const candidates: [string, string][] = [
    ['EVN-6', message.evn.occurredAt],
    ['EVN-2', message.evn.recordedAt],
    ['MSH-7', message.header.messageTime],
  ];
  const found = candidates.find(([, value]) => value !== '');
  if (!found) throw invalid('no_event_time', 'EVN-6, EVN-2 and MSH-7 are all empty.');
  const [field, value] = found;
  const parsed = parseHl7Timestamp(value, {
    offset: timestampOffset(message.header.messageTime),
    timeZone: context.timeZone,
  });
  if (!parsed) throw invalid('bad_timestamp', `${field} is not an HL7 timestamp.`);
  return parsed.at;
}

/** `hl7:` + MSH-4 (sending facility), else MSH-3 (sending application). */
export function sourceSystem(message: ReadMessage): string {
  const sender = message.header.sendingFacility || message.header.sendingApplication;
  return `hl7:${sender || 'unknown'}`;
}

function defaultAuthority(message: ReadMessage): string {
  return message.header.sendingFacility || message.header.sendingApplication || 'HL7';
}

const identifierPreference = ['MR', 'MRN', 'PI', 'PT'];

/** The MRN among a patient's identifiers: type MR (or MRN, PI, PT), else the first one. */
function chooseIdentifier(identifiers: readonly Identifier[]): Identifier | undefined {
  for (const type of identifierPreference) {
    const found = identifiers.find((identifier) => identifier.typeCode === type);
    if (found) return found;
  }
  return identifiers[0];
}

function patientRef(
  group: PatientGroup,
  authority: string,
  now: Date,
  notes: string[],
): PatientRef {
  const identifier = chooseIdentifier(group.pid.identifiers);
  if (!identifier) throw invalid('no_patient_identifier', 'PID-3 names no patient identifier.');
  const birthDate = group.pid.birthDate ? parseHl7Date(group.pid.birthDate, now) : undefined;
  if (group.pid.birthDate && !birthDate)
    addNote(notes, 'birth date in PID-7 ignored: not a plausible date');
  return {
    mrn: identifier.id,
    authority: identifier.authority || authority,
    familyName: group.pid.familyName || null,
    givenName: group.pid.givenName || null,
    birthDate: birthDate ?? null,
    sex: group.pid.sex || null,
  };
}

function visitRef(
  group: PatientGroup,
  source: string,
  defaults: { offset: string | undefined; timeZone: string },
  notes: string[],
): VisitRef {
  const visitNumber = group.pv1?.visitNumber ?? '';
  const account = group.pid.accountNumber;
  const expected = group.pv2?.expectedDischargeAt
    ? parseHl7Timestamp(group.pv2.expectedDischargeAt, defaults)
    : undefined;
  if (group.pv2?.expectedDischargeAt && !expected) {
    addNote(notes, 'expected discharge in PV2-9 ignored: not an HL7 timestamp');
  }
  return {
    sourceSystem: source,
    sourceRef: visitNumber !== '' ? visitNumber : account !== '' ? `account:${account}` : null,
    encounterClass: encounterClass(group.pv1?.patientClass ?? ''),
    expectedDischargeAt: expected?.at ?? null,
    attending: attendingRef(group, source),
  };
}

function attendingRef(group: PatientGroup, source: string): AttendingRef | null {
  const doctor = group.pv1?.attending;
  if (!doctor?.id) return null;
  return {
    id: doctor.id,
    authority: doctor.authority || source,
    familyName: doctor.familyName || null,
    givenName: doctor.givenName || null,
    prefix: doctor.prefix || null,
  };
}

/** PV1-2 (HL7 table 0004) onto MedAxis encounter classes. */
function encounterClass(code: string): EncounterClass | null {
  switch (code) {
    case 'E':
      return 'emergency';
    case 'I':
    case 'P': // pre-admit: an inpatient stay is planned
    case 'B': // obstetrics
      return 'inpatient';
    case 'O':
    case 'R': // recurring
    case 'C': // commercial account
      return 'outpatient';
    default:
      return null;
  }
}

/**
 * PV1-3 as a MedAxis location. Department codes become upper-case letters, digits, '-' and '_'
 * (other characters turn into '_', at most 32), so "HUH AE OMU" is HUH_AE_OMU; the text as
 * sent is kept as the department's name. Without a point of care there is no location.
 */
function locationRef(location: Location, notes: string[]): LocationRef | null {
  if (location.pointOfCare === '') {
    if (location.room !== '' || location.bed !== '') {
      addNote(notes, 'PV1-3 has a room or bed but no point of care: location ignored');
    }
    return null;
  }
  const departmentCode = code(location.pointOfCare);
  const roomCode = location.room === '' ? '-' : code(location.room);
  return {
    departmentCode,
    departmentName: location.pointOfCare,
    roomCode,
    bedCode:
      location.bed === ''
        ? null
        : [departmentCode, location.room === '' ? null : roomCode, code(location.bed)]
            .filter((part) => part !== null)
            .join('-'),
  };
}

function code(text: string): string {
  return text
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9_-]+/g, '_')
    .slice(0, 32);
}

function addNote(notes: string[], note: string) {
  if (!notes.includes(note)) notes.push(note);
}

function invalid(reason: string, message: string) {
  return new MedaxisError(ErrorCode.validation, reason, message);
}
