/*
 * @medplum/fhirtypes 5 is an ES module package whose declaration files re-export each other
 * without file extensions, which TypeScript's NodeNext resolution refuses: its index exports
 * nothing here. Each type is imported from its own declaration file instead.
 * NOTE: the types those files import in turn (a Patient's HumanName[]) stay unresolved and
 * so unchecked; only the top level of each resource is typed. Fixed upstream when the package
 * ships extensions (or an "exports" map); a moduleResolution of "bundler" would also resolve it.
 */
export type { Address } from '@medplum/fhirtypes/dist/Address.d.ts';
export type { Coding } from '@medplum/fhirtypes/dist/Coding.d.ts';
export type { ContactPoint } from '@medplum/fhirtypes/dist/ContactPoint.d.ts';
export type { Encounter } from '@medplum/fhirtypes/dist/Encounter.d.ts';
export type { EncounterLocation } from '@medplum/fhirtypes/dist/Encounter.d.ts';
export type { Extension } from '@medplum/fhirtypes/dist/Extension.d.ts';
export type { HumanName } from '@medplum/fhirtypes/dist/HumanName.d.ts';
export type { Identifier } from '@medplum/fhirtypes/dist/Identifier.d.ts';
export type { Location } from '@medplum/fhirtypes/dist/Location.d.ts';
export type { Organization } from '@medplum/fhirtypes/dist/Organization.d.ts';
export type { Patient } from '@medplum/fhirtypes/dist/Patient.d.ts';
export type { PatientContact } from '@medplum/fhirtypes/dist/Patient.d.ts';
export type { Practitioner } from '@medplum/fhirtypes/dist/Practitioner.d.ts';
export type { PractitionerRole } from '@medplum/fhirtypes/dist/PractitionerRole.d.ts';
