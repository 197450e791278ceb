import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import {
  ensureEncounterRecord,
  findOrganization,
  findPractitioner,
  setEncounterDetails,
  upsertOrganization,
  upsertPatientRecord,
  upsertPractitioner,
  withTransaction,
  type Db,
  type HumanName,
  type PatientIdentifierInput,
} from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

import { encounterClassOf } from '../fhir/codes.ts';
import { normalizeAddress, normalizeName } from '../fhir/present.ts';
import {
  closeImportRun,
  countBy,
  keepImportRejections,
  openImportRun,
  resolveImportRejections,
  systemActor,
  type ImportAuditSink,
  type ImportRejection,
} from '../import-run.ts';

export const syntheaImportSource = 'import:synthea';
export const syntheaSourceSystem = 'synthea';
/** Synthea's own identifier system, as its FHIR exporter writes it: CSV and FHIR agree. */
export const syntheaSystem = 'https://github.com/synthetichealth/synthea';

const syntheaFiles = ['organizations.csv', 'providers.csv', 'patients.csv', 'encounters.csv'];

export interface ImportSyntheaOptions {
  /** A Synthea CSV output folder (or its parent holding `csv/`). */
  dir: string;
  audit?: ImportAuditSink | undefined;
  onProgress?: (done: number, total: number) => void;
}

export interface SyntheaImportReport {
  runId: number;
  source: string;
  /** Per file: data rows read, applied, rejected (every row counted once). */
  files: Record<string, { read: number; applied: number; rejected: number }>;
  /** Files Synthea writes that were not there (nothing to import from them). */
  missing: string[];
  rejectedByReason: Record<string, number>;
  notes: Record<string, number>;
  rejectionsAlreadyKept: number;
  /** Rows earlier runs rejected that this run applied (same file and Id): reprocessed. */
  rejectionsResolved: number;
}

// ---- rows --------------------------------------------------------------------------------------

/** Synthea's ids are 8-4-4-4-12 hex without an RFC version: guid, not uuid. */
const uuid = z.guid();
const optional = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));
const required = z.string().trim().min(1, 'required');
const date = z.iso.date();
const instant = z.iso.datetime({ offset: true });

const organizationRow = z.object({
  Id: uuid,
  NAME: required,
  ADDRESS: optional,
  CITY: optional,
  STATE: optional,
  ZIP: optional,
  PHONE: optional,
});

const providerRow = z.object({
  Id: uuid,
  ORGANIZATION: optional,
  NAME: required,
  GENDER: optional,
  SPECIALITY: optional,
  ADDRESS: optional,
  CITY: optional,
  STATE: optional,
  ZIP: optional,
});

const patientRow = z.object({
  Id: uuid,
  BIRTHDATE: date,
  DEATHDATE: optional.pipe(date.optional()),
  SSN: optional,
  DRIVERS: optional,
  PASSPORT: optional,
  PREFIX: optional,
  FIRST: optional,
  MIDDLE: optional,
  LAST: optional,
  SUFFIX: optional,
  MAIDEN: optional,
  GENDER: optional.pipe(z.enum(['M', 'F']).optional()),
  ADDRESS: optional,
  CITY: optional,
  STATE: optional,
  COUNTY: optional,
  ZIP: optional,
});

const encounterRow = z.object({
  Id: uuid,
  START: instant,
  STOP: optional.pipe(instant.optional()),
  PATIENT: uuid,
  ORGANIZATION: optional,
  PROVIDER: optional,
  ENCOUNTERCLASS: required,
});

type Row = Record<string, string | undefined>;

interface CsvFile {
  name: string;
  rows: { line: number; raw: Row }[];
}

/**
 * Reads one CSV file: every record with the line it starts on. A file csv-parse cannot read
 * at all (an unclosed quote) is one rejection, not a crash.
 */
async function readCsv(path: string, name: string, rejections: ImportRejection[]) {
  const text = await readFile(path, 'utf8');
  try {
    // With `info`, each record comes with where it was read (csv-parse's types omit that).
    const records = parse(text, {
      bom: true,
      columns: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as { record: Row; info: { lines: number } }[];
    return { name, rows: records.map(({ record, info }) => ({ line: info.lines, raw: record })) };
  } catch (error) {
    rejections.push({
      file: name,
      row: 0,
      raw: null,
      reason: 'unreadable_csv',
      message: (error as Error).message,
    });
    return { name, rows: [] };
  }
}

function rowIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.map(String).join('.')}: ${issue.message}` : 'invalid row';
}

/**
 * Imports Synthea CSV output: organizations, providers (practitioners), patients and their
 * encounters, in that order (rows refer back). Every row is applied or rejected with its
 * reason and line (import_rejection); valid rows apply whatever their neighbours do. Rows keep
 * Synthea's ids, so its FHIR output and its CSV land on the same rows, and a re-run changes
 * nothing. Synthea says nothing about beds: its encounters get no bed stays.
 */
export async function importSynthea(
  db: Db,
  options: ImportSyntheaOptions,
): Promise<SyntheaImportReport> {
  const given = resolve(options.dir);
  const dir = existsSync(join(given, 'csv', 'patients.csv')) ? join(given, 'csv') : given;
  const rejections: ImportRejection[] = [];
  const notes: string[] = [];
  const missing: string[] = [];
  const files: CsvFile[] = [];
  for (const name of syntheaFiles) {
    const path = join(dir, name);
    if (existsSync(path)) files.push(await readCsv(path, name, rejections));
    else missing.push(name);
  }

  const runId = await openImportRun(db, 'synthea', dir);
  const counts: SyntheaImportReport['files'] = {};
  const total = files.reduce((sum, file) => sum + file.rows.length, 0);
  let done = 0;
  const appliedKeys: string[] = [];
  for (const file of files) {
    const count = (counts[file.name] = { read: file.rows.length, applied: 0, rejected: 0 });
    for (const { line, raw } of file.rows) {
      try {
        await applyRow(db, file.name, raw, notes, options.audit);
        count.applied++;
        appliedKeys.push(`${file.name} ${(raw.Id ?? '').trim().toLowerCase()}`);
      } catch (error) {
        if (!(error instanceof z.ZodError) && !isMedaxisError(error)) throw error;
        count.rejected++;
        const [reason, message] =
          error instanceof z.ZodError
            ? ['invalid_row', rowIssue(error)]
            : [error.reason, error.message];
        rejections.push({ file: file.name, row: line, raw, reason, message });
      }
      options.onProgress?.(++done, total);
    }
  }

  await options.audit?.flush();
  const kept = await keepImportRejections(db, 'synthea', runId, rejections);
  const resolved = await resolveImportRejections(
    db,
    'synthea',
    runId,
    `r.file || ' ' || lower(trim(r.row->>'Id'))`,
    appliedKeys,
  );
  const report: SyntheaImportReport = {
    runId,
    source: dir,
    files: counts,
    missing,
    rejectedByReason: countBy(rejections, (rejection) => rejection.reason),
    notes: countBy(notes, (note) => note),
    rejectionsAlreadyKept: kept.alreadyKept,
    rejectionsResolved: resolved,
  };
  const applied = Object.values(counts).reduce((sum, count) => sum + count.applied, 0);
  await closeImportRun(db, runId, { applied, rejected: rejections.length }, report);
  return report;
}

/**
 * Applies one row of a Synthea CSV file on its own, as importSynthea does for each row: how a
 * kept rejection is reprocessed. A row refused throws the MedaxisError it would be kept with
 * (invalid_row for one that does not read). Rows refer back (an encounter to its patient):
 * the row is applied against what the database holds now.
 */
export async function applySyntheaRow(
  db: Db,
  file: string,
  raw: Record<string, string | undefined>,
  options: { audit?: ImportAuditSink | undefined } = {},
): Promise<{ notes: string[] }> {
  if (!syntheaFiles.includes(file)) {
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_file',
      `MedAxis imports no Synthea file ${file}; it reads ${syntheaFiles.join(', ')}.`,
    );
  }
  const notes: string[] = [];
  try {
    await applyRow(db, file, raw, notes, options.audit);
  } catch (error) {
    if (error instanceof z.ZodError) {
      throw new MedaxisError(ErrorCode.validation, 'invalid_row', rowIssue(error));
    }
    throw error;
  }
  return { notes };
}

async function applyRow(
  db: Db,
  file: string,
  raw: Row,
  notes: string[],
  audit: ImportAuditSink | undefined,
) {
  switch (file) {
    case 'organizations.csv':
      return applyOrganization(db, organizationRow.parse(raw));
    case 'providers.csv':
      return applyProvider(db, providerRow.parse(raw), notes);
    case 'patients.csv':
      return applyPatient(db, patientRow.parse(raw), notes, audit);
    case 'encounters.csv':
      return applyEncounter(db, encounterRow.parse(raw), notes, audit);
    default:
      throw new Error(`no importer for ${file}`);
  }
}

/** Synthea writes 00000 where it has no ZIP code: no postal code, not a real one. */
function postalCode(zip: string | undefined, notes: string[]): string | undefined {
  if (zip === '00000') {
    notes.push('placeholder ZIP 00000: postal code left out');
    return undefined;
  }
  return zip;
}

async function applyOrganization(db: Db, row: z.infer<typeof organizationRow>) {
  await upsertOrganization(db, {
    id: row.Id.toLowerCase(),
    name: row.NAME,
    type: null,
    active: true,
    identifiers: [{ system: syntheaSystem, value: row.Id }],
    telecom: row.PHONE ? [{ system: 'phone', value: row.PHONE }] : [],
    addresses: row.ADDRESS
      ? [
          normalizeAddress({
            line: [row.ADDRESS],
            city: row.CITY,
            state: row.STATE,
            postalCode: row.ZIP,
          }),
        ]
      : [],
    partOfId: null,
  });
}

async function applyProvider(db: Db, row: z.infer<typeof providerRow>, notes: string[]) {
  const organizationId = row.ORGANIZATION
    ? await findOrganization(db, { id: row.ORGANIZATION.toLowerCase() })
    : undefined;
  if (row.ORGANIZATION && !organizationId) notes.push('unknown organization: left out');
  // Synthea writes "Given Family" (given names may hold spaces, family names do not).
  const split = row.NAME.lastIndexOf(' ');
  await upsertPractitioner(db, {
    id: row.Id.toLowerCase(),
    familyName: split > 0 ? row.NAME.slice(split + 1) : row.NAME,
    givenName: split > 0 ? row.NAME.slice(0, split) : null,
    prefix: null,
    sex: row.GENDER ?? null,
    active: true,
    identifiers: [{ system: syntheaSystem, value: row.Id }],
    telecom: [],
    addresses: row.ADDRESS
      ? [
          normalizeAddress({
            line: [row.ADDRESS],
            city: row.CITY,
            state: row.STATE,
            postalCode: row.ZIP,
          }),
        ]
      : [],
    specialty: row.SPECIALITY ?? null,
    organizationId: organizationId ?? null,
  });
}

async function applyPatient(
  db: Db,
  row: z.infer<typeof patientRow>,
  notes: string[],
  audit: ImportAuditSink | undefined,
) {
  const identifiers: PatientIdentifierInput[] = [
    { system: syntheaSystem, value: row.Id, type: 'MR' },
  ];
  if (row.SSN)
    identifiers.push({ system: 'http://hl7.org/fhir/sid/us-ssn', value: row.SSN, type: 'SS' });
  if (row.DRIVERS) {
    identifiers.push({
      system: 'urn:oid:2.16.840.1.113883.4.3.25',
      value: row.DRIVERS,
      type: 'DL',
    });
  }
  if (row.PASSPORT) {
    identifiers.push({
      system: 'http://hl7.org/fhir/sid/passport-USA',
      value: row.PASSPORT,
      type: 'PPN',
    });
  }
  const names: HumanName[] = [
    normalizeName({
      use: 'official',
      family: row.LAST,
      given: [row.FIRST, row.MIDDLE].filter((name): name is string => name !== undefined),
      prefix: row.PREFIX ? [row.PREFIX] : undefined,
      suffix: row.SUFFIX ? [row.SUFFIX] : undefined,
    }),
  ];
  if (row.MAIDEN) {
    names.push(
      normalizeName({ use: 'maiden', family: row.MAIDEN, given: row.FIRST ? [row.FIRST] : [] }),
    );
  }
  const address = normalizeAddress({
    line: row.ADDRESS ? [row.ADDRESS] : undefined,
    city: row.CITY,
    district: row.COUNTY,
    state: row.STATE,
    postalCode: postalCode(row.ZIP, notes),
  });
  const patientId = await withTransaction(db, async (tx) => {
    const { patientId } = await upsertPatientRecord(tx, {
      id: row.Id.toLowerCase(),
      mrn: { authority: syntheaSystem, value: row.Id },
      identifiers,
      names,
      birthDate: row.BIRTHDATE,
      sex: row.GENDER ?? null,
      addresses: Object.keys(address).length > 0 ? [address] : [],
      telecom: [],
      contacts: [],
      // Synthea gives the day only: the death is dated at its start, UTC.
      deceasedAt: row.DEATHDATE ? new Date(`${row.DEATHDATE}T00:00:00Z`) : null,
      managingOrganizationId: null,
    });
    return patientId;
  });
  audit?.defer({
    source: syntheaImportSource,
    operation: 'import.synthea.patient',
    action: 'write',
    actor: systemActor,
    purpose: 'operations',
    resourceType: 'patient',
    resourceId: patientId,
    patientIds: [patientId],
    outcome: 'allowed',
  });
}

async function applyEncounter(
  db: Db,
  row: z.infer<typeof encounterRow>,
  notes: string[],
  audit: ImportAuditSink | undefined,
) {
  const encounterClass = encounterClassOf(row.ENCOUNTERCLASS);
  if (!encounterClass) {
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_class',
      `ENCOUNTERCLASS ${row.ENCOUNTERCLASS} is not one MedAxis knows.`,
    );
  }
  const start = new Date(row.START);
  const stop = row.STOP ? new Date(row.STOP) : null;
  if (stop && stop < start) {
    throw new MedaxisError(ErrorCode.validation, 'ends_before_start', 'STOP is before START.');
  }
  const result = await withTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT coalesce(merged_into_id, id) AS id FROM patient WHERE id = $1`,
      [row.PATIENT.toLowerCase()],
    );
    const patientId = rows[0]?.id;
    if (!patientId) {
      throw new MedaxisError(ErrorCode.notFound, 'unknown_patient', 'PATIENT is not imported.');
    }
    const { encounterId } = await ensureEncounterRecord(tx, {
      id: row.Id.toLowerCase(),
      patientId,
      class: encounterClass,
      sourceSystem: syntheaSourceSystem,
      sourceRef: row.Id,
    });
    const organizationId = row.ORGANIZATION
      ? await findOrganization(tx, { id: row.ORGANIZATION.toLowerCase() })
      : undefined;
    if (row.ORGANIZATION && !organizationId) notes.push('unknown organization: left out');
    const attendingId = row.PROVIDER
      ? await findPractitioner(tx, { id: row.PROVIDER.toLowerCase() })
      : undefined;
    if (row.PROVIDER && !attendingId) notes.push('unknown provider: attending left out');
    await setEncounterDetails(tx, encounterId, {
      class: encounterClass,
      status: stop ? 'finished' : 'in_progress',
      admittedAt: start,
      dischargedAt: stop,
      departmentId: null,
      organizationId: organizationId ?? null,
      attendingId: attendingId ?? null,
    });
    return { encounterId, patientId };
  });
  audit?.defer({
    source: syntheaImportSource,
    operation: 'import.synthea.encounter',
    action: 'write',
    actor: systemActor,
    purpose: 'operations',
    resourceType: 'encounter',
    resourceId: result.encounterId,
    patientIds: [result.patientId],
    encounterIds: [result.encounterId],
    outcome: 'allowed',
  });
}
