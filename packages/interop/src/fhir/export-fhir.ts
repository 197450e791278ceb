import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

import {
  exportEncounterRecords,
  exportPatientRecords,
  listLocations,
  listOrganizations,
  listPractitioners,
  type Db,
  type PatientAccess,
} from '@medaxis/db';

import { systemActor, type ImportAuditSink } from '../import-run.ts';
import {
  toFhirEncounter,
  toFhirLocation,
  toFhirOrganization,
  toFhirPatient,
  toFhirPractitioner,
  toFhirPractitionerRole,
} from './present.ts';

export const fhirExportSource = 'export:fhir';

export interface ExportFhirOptions {
  dir: string;
  /** The access decision the export runs under (the system's, for the CLI). */
  access: PatientAccess;
  audit?: ImportAuditSink | undefined;
}

export interface FhirExportReport {
  dir: string;
  /** Resources written per type; each type is one file, `<Type>.ndjson`. */
  resources: Record<string, number>;
}

const page = 1_000;

/**
 * Writes everything MedAxis holds as FHIR R4 NDJSON, one file per resource type, each in id
 * order: Organization, Practitioner, PractitionerRole, Location, Patient, Encounter.
 * `importFhir` reads the directory back to the same rows, so an export of that import is
 * byte for byte the same. Patients come through the access decision (consent applies); the
 * export is audited as one row per patient page.
 */
export async function exportFhir(db: Db, options: ExportFhirOptions): Promise<FhirExportReport> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const resources: Record<string, number> = {};

  const write = async (
    type: string,
    produce: (emit: (r: object) => Promise<void>) => Promise<void>,
  ) => {
    const stream = createWriteStream(join(dir, `${type}.ndjson`), { encoding: 'utf8' });
    let count = 0;
    await produce(async (resource) => {
      count++;
      if (!stream.write(`${JSON.stringify(resource)}\n`)) await once(stream, 'drain');
    });
    stream.end();
    await once(stream, 'finish');
    resources[type] = count;
  };

  await write('Organization', async (emit) => {
    for (let after: string | null = null; ;) {
      const rows = await listOrganizations(db, { afterId: after, limit: page });
      for (const row of rows) await emit(toFhirOrganization(row));
      if (rows.length < page) break;
      after = rows.at(-1)!.id;
    }
  });
  const practitioners = await (async () => {
    const all = [];
    for (let after: string | null = null; ;) {
      const rows = await listPractitioners(db, { afterId: after, limit: page });
      all.push(...rows);
      if (rows.length < page) break;
      after = rows.at(-1)!.id;
    }
    return all;
  })();
  await write('Practitioner', async (emit) => {
    for (const row of practitioners) await emit(toFhirPractitioner(row));
  });
  await write('PractitionerRole', async (emit) => {
    for (const row of practitioners) {
      const role = toFhirPractitionerRole(row);
      if (role) await emit(role);
    }
  });
  await write('Location', async (emit) => {
    for (const row of await listLocations(db)) await emit(toFhirLocation(row));
  });
  await write('Patient', async (emit) => {
    for (let after: string | null = null; ;) {
      const rows = await exportPatientRecords(db, options.access, { afterId: after, limit: page });
      for (const row of rows) await emit(toFhirPatient(row, row.read.touchedPatientId));
      if (rows.length > 0)
        audit(
          options.audit,
          'patient',
          rows.map((r) => r.read.touchedPatientId),
        );
      if (rows.length < page) break;
      after = rows.at(-1)!.read.touchedPatientId;
    }
  });
  await write('Encounter', async (emit) => {
    for (let after: string | null = null; ;) {
      const rows = await exportEncounterRecords(db, options.access, {
        afterId: after,
        limit: page,
      });
      for (const row of rows) await emit(toFhirEncounter(row));
      if (rows.length > 0)
        audit(
          options.audit,
          'encounter',
          rows.map((r) => r.patientId),
        );
      if (rows.length < page) break;
      after = rows.at(-1)!.id;
    }
  });
  await options.audit?.flush();
  return { dir, resources };
}

function audit(sink: ImportAuditSink | undefined, resourceType: string, patientIds: string[]) {
  sink?.defer({
    source: fhirExportSource,
    operation: `export.fhir.${resourceType}`,
    action: 'export',
    actor: systemActor,
    purpose: 'operations',
    resourceType,
    resourceId: `${patientIds.length} ${resourceType}s`,
    patientIds,
    outcome: 'allowed',
  });
}
