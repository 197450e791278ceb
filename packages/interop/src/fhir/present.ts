import type {
  ContactPoint,
  DirectoryIdentifier,
  EncounterRecord,
  HumanName,
  LocationRecord,
  OrganizationRow,
  PatientContact,
  PatientRecord,
  PostalAddress,
  PractitionerRow,
} from '@medaxis/db';
import type {
  Address,
  ContactPoint as FhirContactPoint,
  Encounter,
  EncounterLocation,
  Extension,
  HumanName as FhirHumanName,
  Identifier,
  Location,
  Organization,
  Patient,
  PatientContact as FhirPatientContact,
  Practitioner,
  PractitionerRole,
} from './fhir-types.ts';

import {
  authoritySystem,
  classCodings,
  code0116,
  extensions,
  fhirEncounterStatus,
  fhirIdOf,
  genderOf,
  systems,
} from './codes.ts';

/*
 * MedAxis rows as FHIR R4 resources, for the read endpoints and the NDJSON export. Objects are
 * built field by field in one fixed order and empty parts left out, so the same rows always
 * give the same bytes: an export, imported and exported again, is identical.
 */

// ---- data types ------------------------------------------------------------------------------

function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === null || item === '') continue;
    if (Array.isArray(item) && item.length === 0) continue;
    out[key] = item;
  }
  return out as T;
}

function list(values: readonly string[] | undefined): string[] | undefined {
  const kept = (values ?? []).filter((value) => value.trim() !== '');
  return kept.length > 0 ? kept : undefined;
}

/** A name in MedAxis's stored form (fixed key order, nothing empty). */
export function normalizeName(name: HumanName): HumanName {
  return compact({
    use: name.use,
    text: name.text,
    family: name.family,
    given: list(name.given),
    prefix: list(name.prefix),
    suffix: list(name.suffix),
  });
}

export function normalizeTelecom(point: ContactPoint): ContactPoint {
  return compact({ system: point.system, value: point.value, use: point.use });
}

export function normalizeAddress(address: PostalAddress): PostalAddress {
  return compact({
    use: address.use,
    text: address.text,
    line: list(address.line),
    city: address.city,
    district: address.district,
    state: address.state,
    postalCode: address.postalCode,
    country: address.country,
  });
}

export function normalizeContact(contact: PatientContact): PatientContact {
  return compact({
    relationship: list(contact.relationship),
    name: contact.name ? normalizeName(contact.name) : undefined,
    telecom: contact.telecom?.map(normalizeTelecom),
    address: contact.address ? normalizeAddress(contact.address) : undefined,
  });
}

function fhirName(name: HumanName): FhirHumanName {
  return normalizeName(name) as FhirHumanName;
}
function fhirTelecom(point: ContactPoint): FhirContactPoint {
  return normalizeTelecom(point) as FhirContactPoint;
}
function fhirAddress(address: PostalAddress): Address {
  return normalizeAddress(address) as Address;
}
function directoryIdentifier(identifier: DirectoryIdentifier): Identifier {
  return compact({ system: identifier.system, value: identifier.value });
}

// ---- Patient ---------------------------------------------------------------------------------

/** A patient record as a FHIR Patient: only what the access decision let the record hold. */
export function toFhirPatient(record: PatientRecord, id: string): Patient {
  const { view } = record.read;
  return compact<Patient>({
    resourceType: 'Patient',
    id,
    identifier: record.identifiers.map((identifier) =>
      compact<Identifier>({
        type: identifier.type
          ? { coding: [{ system: systems.identifierType, code: identifier.type }] }
          : undefined,
        system: authoritySystem(identifier.system),
        value: identifier.value,
      }),
    ),
    name: record.names.map(fhirName),
    telecom: record.telecom.map(fhirTelecom),
    gender: genderOf(view.sex),
    birthDate: view.birthDate ?? undefined,
    deceasedDateTime: record.deceasedAt ? new Date(record.deceasedAt).toISOString() : undefined,
    address: record.addresses.map(fhirAddress),
    contact: record.contacts.map((contact) => {
      const normal = normalizeContact(contact);
      return compact<FhirPatientContact>({
        relationship: normal.relationship?.map((relationship) => ({ text: relationship })),
        name: normal.name as FhirHumanName | undefined,
        telecom: normal.telecom as FhirContactPoint[] | undefined,
        address: normal.address as Address | undefined,
      });
    }),
    managingOrganization: record.managingOrganizationId
      ? { reference: `Organization/${record.managingOrganizationId}` }
      : undefined,
  });
}

// ---- Encounter -------------------------------------------------------------------------------

const attending = {
  coding: [{ system: systems.participationType, code: 'ATND', display: 'attender' }],
};

function instant(value: string | null): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

/** Bed stays become the location history, each stay one entry on its bed's Location. */
export function toFhirEncounter(encounter: EncounterRecord): Encounter {
  const locations: EncounterLocation[] = encounter.stays.map((stay) => ({
    location: { reference: `Location/${fhirIdOf('bed', stay.bedCode)}`, display: stay.bedCode },
    status: stay.endAt ? 'completed' : 'active',
    period: compact({ start: instant(stay.startAt), end: instant(stay.endAt) }),
  }));
  const extension: Extension[] = encounter.departmentCode
    ? [
        {
          url: extensions.department,
          valueReference: { reference: `Location/${fhirIdOf('dept', encounter.departmentCode)}` },
        },
      ]
    : [];
  return compact<Encounter>({
    resourceType: 'Encounter',
    id: encounter.id,
    extension,
    identifier:
      encounter.sourceSystem && encounter.sourceRef
        ? [
            {
              system: `${systems.sourcePrefix}${encounter.sourceSystem}`,
              value: encounter.sourceRef,
            },
          ]
        : undefined,
    status: fhirEncounterStatus[encounter.status],
    class: classCodings[encounter.class],
    subject: { reference: `Patient/${encounter.patientId}` },
    participant: encounter.attendingId
      ? [{ type: [attending], individual: { reference: `Practitioner/${encounter.attendingId}` } }]
      : undefined,
    period: compact({
      start: instant(encounter.admittedAt),
      end: instant(encounter.dischargedAt),
    }),
    location: locations,
    serviceProvider: encounter.organizationId
      ? { reference: `Organization/${encounter.organizationId}` }
      : undefined,
  });
}

// ---- Location --------------------------------------------------------------------------------

const physical = (code: 'wa' | 'ro' | 'bd', display: string) => ({
  coding: [{ system: systems.physicalType, code, display }],
});

function roomFhirId(location: LocationRecord): string {
  return fhirIdOf('room', `${location.departmentCode}-${location.roomCode}`);
}

/** The FHIR id of a department, room or bed. */
export function locationFhirId(location: LocationRecord): string {
  switch (location.kind) {
    case 'department':
      return fhirIdOf('dept', location.departmentCode);
    case 'room':
      return roomFhirId(location);
    case 'bed':
      return fhirIdOf('bed', location.bedCode!);
  }
}

/**
 * A department (physical type ward), room or bed as a FHIR Location. A bed's operationalStatus
 * is its HL7 table 0116 code; MedAxis's finer status (cleaning, reserved, the block reason)
 * rides along in extensions, so an import restores exactly the status that was exported.
 */
export function toFhirLocation(location: LocationRecord): Location {
  const id = locationFhirId(location);
  const organization = location.organizationId
    ? { reference: `Organization/${location.organizationId}` }
    : undefined;
  switch (location.kind) {
    case 'department':
      return compact<Location>({
        resourceType: 'Location',
        id,
        identifier: [{ system: systems.department, value: location.departmentCode }],
        status: 'active',
        name: location.departmentName,
        mode: 'instance',
        type: [{ coding: [{ system: systems.departmentKind, code: location.departmentKind }] }],
        physicalType: physical('wa', 'Ward'),
        managingOrganization: organization,
      });
    case 'room':
      return compact<Location>({
        resourceType: 'Location',
        id,
        identifier: [
          { system: systems.room, value: `${location.departmentCode}/${location.roomCode}` },
        ],
        status: 'active',
        name: location.roomCode!,
        mode: 'instance',
        physicalType: physical('ro', 'Room'),
        partOf: { reference: `Location/${fhirIdOf('dept', location.departmentCode)}` },
      });
    case 'bed': {
      const extension: Extension[] = [{ url: extensions.bedStatus, valueCode: location.status! }];
      if (location.statusReason) {
        extension.push({ url: extensions.bedStatusReason, valueString: location.statusReason });
      }
      extension.push({ url: extensions.isolation, valueBoolean: location.isolation });
      if (location.bedType && location.bedType !== 'standard') {
        extension.push({ url: extensions.bedType, valueCode: location.bedType });
      }
      return compact<Location>({
        resourceType: 'Location',
        id,
        extension,
        identifier: [{ system: systems.bed, value: location.bedCode! }],
        status: 'active',
        operationalStatus: code0116(location),
        name: location.bedCode!,
        mode: 'instance',
        physicalType: physical('bd', 'Bed'),
        partOf: { reference: `Location/${roomFhirId(location)}` },
      });
    }
  }
}

// ---- Organization, Practitioner --------------------------------------------------------------

export function toFhirOrganization(org: OrganizationRow): Organization {
  return compact<Organization>({
    resourceType: 'Organization',
    id: org.id,
    identifier: org.identifiers.map(directoryIdentifier),
    active: org.active,
    type: org.type
      ? [{ coding: [{ system: systems.organizationType, code: org.type }] }]
      : undefined,
    name: org.name,
    telecom: org.telecom.map(fhirTelecom),
    address: org.addresses.map(fhirAddress),
    partOf: org.partOfId ? { reference: `Organization/${org.partOfId}` } : undefined,
  });
}

export function toFhirPractitioner(p: PractitionerRow): Practitioner {
  const name = compact<FhirHumanName>({
    family: p.familyName ?? undefined,
    given: p.givenName ? p.givenName.split(' ') : undefined,
    prefix: p.prefix ? [p.prefix] : undefined,
  });
  return compact<Practitioner>({
    resourceType: 'Practitioner',
    id: p.id,
    identifier: p.identifiers.map(directoryIdentifier),
    active: p.active,
    name: Object.keys(name).length > 0 ? [name] : undefined,
    telecom: p.telecom.map(fhirTelecom),
    address: p.addresses.map(fhirAddress),
    gender: genderOf(p.sex),
  });
}

/** Where a practitioner works and as what; none when MedAxis knows neither. */
export function toFhirPractitionerRole(p: PractitionerRow): PractitionerRole | undefined {
  if (!p.organizationId && !p.specialty) return undefined;
  return compact<PractitionerRole>({
    resourceType: 'PractitionerRole',
    id: p.id,
    practitioner: { reference: `Practitioner/${p.id}` },
    organization: p.organizationId ? { reference: `Organization/${p.organizationId}` } : undefined,
    specialty: p.specialty ? [{ text: p.specialty }] : undefined,
  });
}
