import { getEncounterRecord, getPatientRecord, listLocations } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import {
  locationFhirId,
  medaxisId,
  toFhirEncounter,
  toFhirLocation,
  toFhirPatient,
} from '@medaxis/interop';
import { z } from 'zod';

import { patientAccess } from './patients.ts';
import { procedure, router } from './trpc.ts';

/*
 * FHIR R4 reads of Patient, Encounter and Location, as JSON resources: the same enforcement
 * point, row filter, field mask and audit as every other patient read. apps/server serves
 * them on GET /fhir/r4/<type>/<id> through this router, so HTTP adds no way around it.
 */

const fhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'not a FHIR id');

export const fhirRouter = router({
  /**
   * A Patient by its MedAxis id, or by the FHIR id it was imported under (medaxisId); NOT_FOUND
   * alike for one that does not exist and one out of view.
   */
  patient: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object({ id: fhirId }).strict())
    .query(async ({ ctx, input }) => {
      const id = medaxisId('Patient', input.id);
      const record = await getPatientRecord(ctx.db, patientAccess(ctx.access), id);
      ctx.access.touch([record.read.touchedPatientId], { breakGlass: record.read.view.breakGlass });
      // A de-identified read has no id to give: the resource is named by what was asked.
      return toFhirPatient(record, record.read.view.patientId ?? input.id);
    }),

  /** An Encounter, through the access decision on its patient. */
  encounter: procedure
    .meta({ permission: 'patient.read', patientData: 'read' })
    .input(z.object({ id: fhirId }).strict())
    .query(async ({ ctx, input }) => {
      const { encounter, patient } = await getEncounterRecord(
        ctx.db,
        patientAccess(ctx.access),
        medaxisId('Encounter', input.id),
      );
      ctx.access.touch([patient.touchedPatientId], { breakGlass: patient.view.breakGlass });
      const resource = toFhirEncounter(encounter);
      // Without the patient's id in the mask, the subject is not named.
      return patient.view.patientId ? resource : { ...resource, subject: undefined };
    }),

  /** A department, room or bed with its current status: operational, no patient data. */
  location: procedure
    .meta({ permission: 'catalog.read' })
    .input(z.object({ id: fhirId }).strict())
    .query(async ({ ctx, input }) => {
      const found = (await listLocations(ctx.db)).find((row) => locationFhirId(row) === input.id);
      if (!found) {
        throw new MedaxisError(ErrorCode.notFound, 'unknown_location', 'No such location.');
      }
      return toFhirLocation(found);
    }),
});
