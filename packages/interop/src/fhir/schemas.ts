import { z } from 'zod';

/*
 * The parts of FHIR R4 resources the importer reads, checked before anything is written: an
 * entry that does not match is rejected with the first problem's path, never half-applied.
 * Fields MedAxis does not keep are allowed and ignored.
 */

const text = z.string().trim().min(1).max(1000);
const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'not a FHIR id');
/** A FHIR dateTime with at least a time to the minute and an offset, or a date. */
const dateTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'not a dateTime');

export const coding = z.object({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});
const codeableConcept = z.object({
  coding: z.array(coding).optional(),
  text: z.string().optional(),
});

export const identifier = z.object({
  system: z.string().optional(),
  value: text,
  type: codeableConcept.optional(),
  use: z.string().optional(),
});

const strings = z.array(z.string()).optional();
export const humanName = z.object({
  use: z.string().optional(),
  text: z.string().optional(),
  family: z.string().optional(),
  given: strings,
  prefix: strings,
  suffix: strings,
});
export const contactPoint = z.object({
  system: z.string().optional(),
  value: z.string().optional(),
  use: z.string().optional(),
});
export const address = z.object({
  use: z.string().optional(),
  text: z.string().optional(),
  line: strings,
  city: z.string().optional(),
  district: z.string().optional(),
  state: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
});
export const reference = z.object({
  reference: z.string().optional(),
  identifier: identifier.partial({ value: true }).optional(),
  display: z.string().optional(),
});
const period = z.object({ start: dateTime.optional(), end: dateTime.optional() });
const extension = z.object({
  url: z.string(),
  valueCode: z.string().optional(),
  valueString: z.string().optional(),
  valueBoolean: z.boolean().optional(),
  valueReference: reference.optional(),
});

export const patientSchema = z.object({
  resourceType: z.literal('Patient'),
  id,
  identifier: z.array(identifier).optional(),
  active: z.boolean().optional(),
  name: z.array(humanName).optional(),
  telecom: z.array(contactPoint).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  birthDate: z.string().optional(),
  deceasedBoolean: z.boolean().optional(),
  deceasedDateTime: dateTime.optional(),
  address: z.array(address).optional(),
  contact: z
    .array(
      z.object({
        relationship: z.array(codeableConcept).optional(),
        name: humanName.optional(),
        telecom: z.array(contactPoint).optional(),
        address: address.optional(),
      }),
    )
    .optional(),
  managingOrganization: reference.optional(),
});

export const encounterSchema = z.object({
  resourceType: z.literal('Encounter'),
  id,
  identifier: z.array(identifier).optional(),
  status: z.enum([
    'planned',
    'arrived',
    'triaged',
    'in-progress',
    'onleave',
    'finished',
    'cancelled',
    'entered-in-error',
    'unknown',
  ]),
  class: coding,
  subject: reference,
  participant: z
    .array(
      z.object({
        type: z.array(codeableConcept).optional(),
        individual: reference.optional(),
      }),
    )
    .optional(),
  period: period.optional(),
  location: z
    .array(
      z.object({
        location: reference,
        status: z.enum(['planned', 'active', 'reserved', 'completed']).optional(),
        physicalType: codeableConcept.optional(),
        period: period.optional(),
      }),
    )
    .optional(),
  serviceProvider: reference.optional(),
  extension: z.array(extension).optional(),
});

export const locationSchema = z.object({
  resourceType: z.literal('Location'),
  id,
  identifier: z.array(identifier).optional(),
  status: z.enum(['active', 'suspended', 'inactive']).optional(),
  operationalStatus: coding.optional(),
  name: z.string().optional(),
  type: z.array(codeableConcept).optional(),
  physicalType: codeableConcept.optional(),
  managingOrganization: reference.optional(),
  partOf: reference.optional(),
  extension: z.array(extension).optional(),
});

export const organizationSchema = z.object({
  resourceType: z.literal('Organization'),
  id,
  identifier: z.array(identifier).optional(),
  active: z.boolean().optional(),
  type: z.array(codeableConcept).optional(),
  name: text,
  telecom: z.array(contactPoint).optional(),
  address: z.array(address).optional(),
  partOf: reference.optional(),
});

export const practitionerSchema = z.object({
  resourceType: z.literal('Practitioner'),
  id,
  identifier: z.array(identifier).optional(),
  active: z.boolean().optional(),
  name: z.array(humanName).optional(),
  telecom: z.array(contactPoint).optional(),
  address: z.array(address).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
});

export const practitionerRoleSchema = z.object({
  resourceType: z.literal('PractitionerRole'),
  id: id.optional(),
  practitioner: reference,
  organization: reference.optional(),
  specialty: z.array(codeableConcept).optional(),
});

export type FhirPatientIn = z.infer<typeof patientSchema>;
export type FhirEncounterIn = z.infer<typeof encounterSchema>;
export type FhirLocationIn = z.infer<typeof locationSchema>;
export type FhirOrganizationIn = z.infer<typeof organizationSchema>;
export type FhirPractitionerIn = z.infer<typeof practitionerSchema>;
export type FhirPractitionerRoleIn = z.infer<typeof practitionerRoleSchema>;
export type FhirExtension = z.infer<typeof extension>;

export const resourceSchemas = {
  Organization: organizationSchema,
  Practitioner: practitionerSchema,
  PractitionerRole: practitionerRoleSchema,
  Location: locationSchema,
  Patient: patientSchema,
  Encounter: encounterSchema,
} as const;

export type SupportedType = keyof typeof resourceSchemas;

/** The order entries apply in, whatever order the files list them: references point back. */
export const applyOrder: readonly SupportedType[] = [
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'Patient',
  'Encounter',
];

export function isSupportedType(type: unknown): type is SupportedType {
  return typeof type === 'string' && type in resourceSchemas;
}

/** The first problem zod found, as `path: message`, for a rejection's reason text. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid resource';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
