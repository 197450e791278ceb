import { createHash } from 'node:crypto';

import {
  departmentCodeMaxLength,
  departmentCodePattern,
  isDepartmentKind,
  type DepartmentKind,
  type EncounterClassName,
  type EncounterStatusName,
} from '@medaxis/db';
import type { Coding } from './fhir-types.ts';
import { v5 as uuidv5 } from 'uuid';

/*
 * The code systems and naming rules MedAxis uses to read and write FHIR R4. Everything that
 * decides how a MedAxis row looks in FHIR, and back, is here, so an export imports unchanged.
 */

export const systems = {
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  bedStatus0116: 'http://terminology.hl7.org/CodeSystem/v2-0116',
  physicalType: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  roleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  /** MedAxis's own: department kinds, location codes, source of a visit, authority names. */
  departmentKind: 'urn:medaxis:department-kind',
  department: 'urn:medaxis:department',
  room: 'urn:medaxis:room',
  bed: 'urn:medaxis:bed',
  sourcePrefix: 'urn:medaxis:source:',
  authorityPrefix: 'urn:medaxis:authority:',
} as const;

export const extensions = {
  bedStatus: 'urn:medaxis:extension:bed-status',
  bedStatusReason: 'urn:medaxis:extension:bed-status-reason',
  isolation: 'urn:medaxis:extension:isolation',
  department: 'urn:medaxis:extension:department',
  bedType: 'urn:medaxis:extension:bed-type',
} as const;

/**
 * Any 8-4-4-4-12 hex id, as PostgreSQL's uuid type takes it: Synthea's ids do not carry an
 * RFC 4122 version and variant, and must keep their value all the same.
 */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(value);
}

/** Namespace of the ids MedAxis derives from FHIR ids that are not UUIDs (RFC 4122 v5). */
const idNamespace = '7b1e4c52-5f0e-4c36-9a43-2f6d2b0c9e11';

/**
 * The MedAxis id (a UUID) of a FHIR resource: its own id when that is a UUID, else a v5 UUID
 * of type and id, so importing the same file twice finds the same rows, and an export (whose
 * ids are UUIDs) imports under the very same ids.
 */
export function medaxisId(resourceType: string, fhirId: string): string {
  return isUuid(fhirId) ? fhirId.toLowerCase() : uuidv5(`${resourceType}/${fhirId}`, idNamespace);
}

/** FHIR Identifier.system of an assigning authority (MRN authorities are often bare names). */
export function authoritySystem(authority: string): string {
  return authority.includes(':') ? authority : `${systems.authorityPrefix}${authority}`;
}

export function authorityOf(system: string | undefined): string {
  if (!system) return 'FHIR';
  return system.startsWith(systems.authorityPrefix)
    ? system.slice(systems.authorityPrefix.length)
    : system;
}

/** FHIR's v3 ActCode encounter classes onto MedAxis's four. */
export function encounterClassOf(code: string | undefined): EncounterClassName | undefined {
  switch ((code ?? '').toUpperCase()) {
    case 'IMP':
    case 'ACUTE':
    case 'NONAC':
    case 'INPATIENT':
      return 'inpatient';
    case 'EMER':
    case 'EMERGENCY':
    case 'URGENTCARE':
      return 'emergency';
    case 'OBSENC':
    case 'OBSERVATION':
      return 'observation';
    case 'AMB':
    case 'HH':
    case 'VR':
    case 'PRENC':
    case 'SS':
    case 'FLD':
    case 'AMBULATORY':
    case 'OUTPATIENT':
    case 'WELLNESS':
    case 'HOME':
    case 'VIRTUAL':
    case 'SNF':
    case 'HOSPICE':
      return 'outpatient';
    default:
      return undefined;
  }
}

export const classCodings: Record<EncounterClassName, Coding> = {
  inpatient: { system: systems.actCode, code: 'IMP', display: 'inpatient encounter' },
  emergency: { system: systems.actCode, code: 'EMER', display: 'emergency' },
  outpatient: { system: systems.actCode, code: 'AMB', display: 'ambulatory' },
  observation: { system: systems.actCode, code: 'OBSENC', display: 'observation encounter' },
};

export type FhirEncounterStatus =
  | 'planned'
  | 'arrived'
  | 'triaged'
  | 'in-progress'
  | 'onleave'
  | 'finished'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

export function encounterStatusOf(status: FhirEncounterStatus): EncounterStatusName {
  switch (status) {
    case 'planned':
      return 'planned';
    case 'finished':
      return 'finished';
    case 'cancelled':
    case 'entered-in-error':
      return 'cancelled';
    case 'arrived':
    case 'triaged':
    case 'in-progress':
    case 'onleave':
    case 'unknown':
      return 'in_progress';
  }
}

export const fhirEncounterStatus: Record<EncounterStatusName, FhirEncounterStatus> = {
  planned: 'planned',
  in_progress: 'in-progress',
  finished: 'finished',
  cancelled: 'cancelled',
};

/** FHIR administrative gender onto HL7 v2 administrative sex (what patient_identity keeps). */
export function sexOf(gender: string | undefined): string | null {
  switch (gender ?? '') {
    case 'male':
      return 'M';
    case 'female':
      return 'F';
    case 'other':
      return 'O';
    case 'unknown':
      return 'U';
    default:
      return null;
  }
}

export function genderOf(sex: string | null): 'male' | 'female' | 'other' | 'unknown' | undefined {
  switch ((sex ?? '').toUpperCase()) {
    case 'M':
    case 'MALE':
      return 'male';
    case 'F':
    case 'FEMALE':
      return 'female';
    case 'O':
    case 'A':
    case 'OTHER':
      return 'other';
    case 'U':
    case 'UNKNOWN':
      return 'unknown';
    default:
      return undefined;
  }
}

export type BedStatusName =
  'free' | 'occupied' | 'housekeeping' | 'cleaning' | 'blocked' | 'reserved';

/** What a bed should be, as a Location's operationalStatus (HL7 table 0116) says. */
export interface BedStatusWish {
  status: BedStatusName | undefined;
  reason: string | null;
  isolation: boolean | undefined;
}

/**
 * HL7 table 0116 onto MedAxis (docs/data_model.md): U free, O occupied, H housekeeping, C
 * closed and K contaminated blocked with that reason, I isolated the isolation flag (the
 * status then comes from the MedAxis extension, or stays as the encounters leave it).
 */
export function bedStatusOf0116(code: string | undefined): BedStatusWish {
  switch ((code ?? '').toUpperCase()) {
    case 'U':
      return { status: 'free', reason: null, isolation: undefined };
    case 'O':
      return { status: 'occupied', reason: null, isolation: undefined };
    case 'H':
      return { status: 'housekeeping', reason: null, isolation: undefined };
    case 'C':
      return { status: 'blocked', reason: 'closed', isolation: undefined };
    case 'K':
      return { status: 'blocked', reason: 'contaminated', isolation: undefined };
    case 'I':
      return { status: undefined, reason: null, isolation: true };
    default:
      return { status: undefined, reason: null, isolation: undefined };
  }
}

const displays0116: Record<string, string> = {
  C: 'Closed',
  H: 'Housekeeping',
  I: 'Isolated',
  K: 'Contaminated',
  O: 'Occupied',
  U: 'Unoccupied',
};

/** A bed's state as one 0116 code: isolation wins, since 0116 has one code per bed. */
export function code0116(bed: {
  status: string | null;
  statusReason: string | null;
  isolation: boolean;
}): Coding {
  let code: string;
  if (bed.isolation) code = 'I';
  else if (bed.status === 'occupied') code = 'O';
  else if (bed.status === 'housekeeping' || bed.status === 'cleaning') code = 'H';
  else if (bed.status === 'blocked') code = bed.statusReason === 'contaminated' ? 'K' : 'C';
  else code = 'U';
  return { system: systems.bedStatus0116, code, display: displays0116[code]! };
}

/** A department kind from a Location's type (MedAxis's own, else v3 RoleCode). */
export function departmentKindOf(codings: readonly Coding[]): DepartmentKind {
  for (const coding of codings) {
    if (coding.system === systems.departmentKind && isDepartmentKind(coding.code ?? '')) {
      return coding.code as DepartmentKind;
    }
    switch ((coding.code ?? '').toUpperCase()) {
      case 'ER':
        return 'emergency';
      case 'ICU':
      case 'PEDICU':
      case 'PEDNICU':
        return 'icu';
      case 'HU':
        return 'ward';
      case 'PEDU':
        return 'pediatrics';
      case 'OR':
        return 'surgery';
      case 'MBL':
        return 'other';
      case 'OF':
      case 'HOSP':
        return 'clinic';
    }
  }
  return 'other';
}

/** A FHIR id ([A-Za-z0-9.-]{1,64}) from a MedAxis code; the code itself is an identifier. */
export function fhirIdOf(prefix: string, code: string): string {
  return `${prefix}-${code.replace(/[^A-Za-z0-9.-]/g, '-')}`.slice(0, 64);
}

/** A MedAxis code from free text: upper case, runs of anything else one dash. */
export function codeOf(text: string): string {
  const code = text
    .normalize('NFKD')
    .replace(/[^\w]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toUpperCase();
  return code.slice(0, 60) || 'UNNAMED';
}

/**
 * A department code from a sender's text (a Location's name or id): codeOf within the limits
 * of every department code (1 to 32 letters, digits, - and _). Text too long for that keeps
 * its start and ends in a hash of the whole text, so two long names sharing their start stay
 * apart and the code depends on the text alone: a re-import finds the same department. Text
 * that fits gives exactly what codeOf gives, so departments imported before keep their code.
 */
export function departmentCodeOf(text: string): string {
  const code = codeOf(text);
  if (code.length <= departmentCodeMaxLength) return code;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 6).toUpperCase();
  const start = code.slice(0, departmentCodeMaxLength - hash.length - 1).replace(/[-_]+$/, '');
  return `${start}-${hash}`;
}

/** A department code a sender states (a MedAxis export's): kept when valid, else derived. */
export function statedDepartmentCode(value: string): string {
  return departmentCodePattern.test(value) ? value : departmentCodeOf(value);
}
