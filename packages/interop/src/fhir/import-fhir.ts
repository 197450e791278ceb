import {
  applyCommand,
  ensureBed,
  ensureDepartment,
  ensureEncounterRecord,
  ensureRoom,
  ensureSite,
  findBedByCode,
  findOrganization,
  findPractitioner,
  getSite,
  setDepartmentOrganization,
  setEncounterDetails,
  setPractitionerRole,
  upsertOrganization,
  upsertPatientRecord,
  upsertPractitioner,
  withTransaction,
  type Db,
  type DirectoryIdentifier,
  type Tx,
} from '@medaxis/db';
import {
  ErrorCode,
  historyCommandOptions,
  isMedaxisError,
  MedaxisError,
  type Command,
} from '@medaxis/domain';
import type { z } from 'zod';

import {
  countBy,
  closeImportRun,
  keepImportRejections,
  openImportRun,
  resolveImportRejections,
  systemActor,
  type ImportAuditSink,
  type ImportRejection,
} from '../import-run.ts';
import {
  authorityOf,
  bedStatusOf0116,
  codeOf,
  departmentCodeOf,
  departmentKindOf,
  encounterClassOf,
  encounterStatusOf,
  extensions,
  isUuid,
  medaxisId,
  sexOf,
  statedDepartmentCode,
  systems,
  type BedStatusName,
} from './codes.ts';
import { normalizeAddress, normalizeContact, normalizeName, normalizeTelecom } from './present.ts';
import { readFhirFiles, type FhirEntry } from './read-fhir-files.ts';
import {
  applyOrder,
  firstIssue,
  isSupportedType,
  resourceSchemas,
  type FhirEncounterIn,
  type FhirExtension,
  type FhirLocationIn,
  type FhirOrganizationIn,
  type FhirPatientIn,
  type FhirPractitionerIn,
  type FhirPractitionerRoleIn,
  type SupportedType,
} from './schemas.ts';

export const fhirImportSource = 'import:fhir';

export interface ImportFhirOptions {
  /** Files and directories: Bundles, single resources (*.json), NDJSON (*.ndjson). */
  paths: readonly string[];
  audit?: ImportAuditSink | undefined;
  now?: () => Date;
  onProgress?: (done: number, total: number) => void;
}

export interface FhirImportReport {
  runId: number;
  sources: string[];
  files: number;
  /** Every entry read is counted once: applied or rejected. */
  entries: { read: number; applied: number; rejected: number };
  byType: Record<string, { read: number; applied: number; rejected: number }>;
  rejectedByReason: Record<string, number>;
  /** What was accepted but applied partly or differently, by note. */
  notes: Record<string, number>;
  /** Domain commands (admit, transfer, discharge, bed status…) the import applied. */
  commands: number;
  rejectionsAlreadyKept: number;
  /** Entries earlier runs rejected that this run applied (same type and id): reprocessed. */
  rejectionsResolved: number;
}

type Parsed<T extends SupportedType> = z.infer<(typeof resourceSchemas)[T]>;

interface LocationTarget {
  departmentId: number;
  roomId?: number | undefined;
  bedId?: number | undefined;
  bedCode?: string | undefined;
}

/**
 * Imports FHIR R4 resources: Organization, Practitioner (and PractitionerRole), Location
 * (departments, rooms, beds with their status from HL7 table 0116), Patient and Encounter.
 * An encounter's location history becomes bed stays through the same domain commands as live
 * events (admit, transfer, discharge, reserve), in one transaction per entry: an entry is
 * applied whole or rejected whole, with its reason kept in import_rejection.
 *
 * Idempotent: resources keep their ids (medaxisId), and commands already reflected in the
 * stays are skipped, so importing the same files again changes nothing.
 */
export async function importFhir(db: Db, options: ImportFhirOptions): Promise<FhirImportReport> {
  const now = options.now ?? (() => new Date());
  const read = await readFhirFiles(options.paths);
  const rejections: ImportRejection[] = [...read.rejections];
  const state = new ImportState(db, now(), options.audit);
  const reject = (entry: FhirEntry, reason: string, message: string) => {
    rejections.push({ file: entry.file, row: entry.row, raw: entry.resource, reason, message });
  };

  // Validate and sort: references point back (an encounter names its patient and beds).
  const byType = new Map<SupportedType, { entry: FhirEntry; resource: unknown }[]>();
  const typeOf = new Map<FhirEntry, string>();
  for (const entry of read.entries) {
    const type = (entry.resource as { resourceType?: unknown } | null)?.resourceType;
    typeOf.set(entry, typeof type === 'string' ? type : 'unknown');
    if (!isSupportedType(type)) {
      reject(entry, 'unsupported_resource_type', `MedAxis does not import ${String(type)}.`);
      continue;
    }
    const parsed = resourceSchemas[type].safeParse(entry.resource);
    if (!parsed.success) {
      reject(entry, 'invalid_resource', firstIssue(parsed.error));
      continue;
    }
    if (entry.fullUrl) state.fullUrls.set(entry.fullUrl, `${type}/${parsed.data.id ?? ''}`);
    const list = byType.get(type) ?? [];
    list.push({ entry, resource: parsed.data });
    byType.set(type, list);
  }
  state.historyStart = earliestInstant(byType.get('Encounter') ?? []);

  const runId = await openImportRun(db, 'fhir', read.files.join(', '));
  const applied = new Set<FhirEntry>();
  const total = [...byType.values()].reduce((sum, list) => sum + list.length, 0);
  let done = 0;
  const run = async (entry: FhirEntry, work: () => Promise<void>) => {
    try {
      await work();
      applied.add(entry);
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
      reject(entry, error.reason, error.message);
    }
    options.onProgress?.(++done, total);
  };

  const bedStatuses: { entry: FhirEntry; location: FhirLocationIn }[] = [];
  for (const type of applyOrder) {
    const list = byType.get(type) ?? [];
    if (type === 'Location')
      list.sort((a, b) => locationRank(a.resource) - locationRank(b.resource));
    for (const { entry, resource } of list) {
      await run(entry, () => state.apply(type, resource as Parsed<typeof type>));
      if (type === 'Location' && applied.has(entry)) {
        bedStatuses.push({ entry, location: resource as FhirLocationIn });
      }
    }
  }
  // Bed statuses last: the encounters' histories put patients in beds first.
  for (const { entry, location } of bedStatuses) {
    const target = state.locations.get(`Location/${location.id}`);
    if (!target?.bedId) continue;
    try {
      await state.applyBedStatus(target.bedId, location);
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
      applied.delete(entry);
      reject(entry, error.reason, error.message);
    }
  }

  await options.audit?.flush();
  const kept = await keepImportRejections(db, 'fhir', runId, rejections);
  const resolved = await resolveImportRejections(
    db,
    'fhir',
    runId,
    `(r.row->>'resourceType') || '/' || (r.row->>'id')`,
    // Applied entries passed their schema: each has a resourceType and a string id.
    [...applied].map((entry) => {
      const { resourceType, id } = entry.resource as { resourceType: string; id?: string };
      return `${resourceType}/${id ?? ''}`;
    }),
  );
  const counts: FhirImportReport['byType'] = {};
  const count = (type: string, outcome: 'applied' | 'rejected') => {
    const slot = (counts[type] ??= { read: 0, applied: 0, rejected: 0 });
    slot.read++;
    slot[outcome]++;
  };
  for (const entry of applied) count(typeOf.get(entry) ?? 'unknown', 'applied');
  for (const rejection of rejections) {
    const type = (rejection.raw as { resourceType?: unknown } | null)?.resourceType;
    count(typeof type === 'string' ? type : 'unknown', 'rejected');
  }
  const report: FhirImportReport = {
    runId,
    sources: read.files,
    files: read.files.length,
    entries: {
      read: applied.size + rejections.length,
      applied: applied.size,
      rejected: rejections.length,
    },
    byType: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
    rejectedByReason: countBy(rejections, (rejection) => rejection.reason),
    notes: countBy(state.notes, (note) => note),
    commands: state.commands,
    rejectionsAlreadyKept: kept.alreadyKept,
    rejectionsResolved: resolved,
  };
  await closeImportRun(db, runId, { applied: applied.size, rejected: rejections.length }, report);
  return report;
}

export interface ApplyFhirResourceOptions {
  audit?: ImportAuditSink | undefined;
  now?: () => Date;
}

/**
 * Applies one resource on its own, through the same checks, mapping and domain commands as
 * importFhir: how a kept rejection is reprocessed (interop/src/import-rejections.ts). Throws the
 * MedaxisError an import would have rejected the entry with.
 *
 * Alone, a resource has no Bundle around it, so what it names is looked up in the database
 * instead: a `urn:uuid:` reference is read as the resource of that id (as Synthea and most
 * exporters write Bundles), and `Location/<id>` as the department or bed of that code (or of
 * the code in a MedAxis export's `dept-…`/`bed-…` id). A room that only its Bundle defined
 * cannot be found again: a bed naming it is rejected (bed_without_room), as it would be alone.
 */
export async function applyFhirResource(
  db: Db,
  resource: unknown,
  options: ApplyFhirResourceOptions = {},
): Promise<{ type: SupportedType; commands: number; notes: string[] }> {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  if (!isSupportedType(type)) {
    throw invalid('unsupported_resource_type', `MedAxis does not import ${String(type)}.`);
  }
  const parsed = resourceSchemas[type].safeParse(resource);
  if (!parsed.success) throw invalid('invalid_resource', firstIssue(parsed.error));

  const now = options.now ?? (() => new Date());
  const state = new ImportState(db, now(), options.audit, { standalone: true });
  if (type === 'Encounter') state.historyStart = earliestInstant([{ resource: parsed.data }]);
  await state.apply(type, parsed.data);
  if (type === 'Location') {
    const location = parsed.data as FhirLocationIn;
    const target = state.locations.get(`Location/${location.id}`);
    if (target?.bedId) await state.applyBedStatus(target.bedId, location);
  }
  return { type, commands: state.commands, notes: state.notes };
}

/** Anything beyond an id: a Patient with nothing else is an opaque patient, no identity row. */
function hasDemographics(patient: FhirPatientIn): boolean {
  return Boolean(
    patient.name?.length ||
    patient.birthDate ||
    patient.gender ||
    patient.address?.length ||
    patient.telecom?.length ||
    patient.contact?.length ||
    patient.deceasedDateTime,
  );
}

function locationRank(resource: unknown): number {
  const kind = locationKind(resource as FhirLocationIn);
  return kind === 'department' ? 0 : kind === 'room' ? 1 : 2;
}

function locationKind(location: FhirLocationIn): 'department' | 'room' | 'bed' {
  const systemsUsed = new Set((location.identifier ?? []).map((i) => i.system));
  if (systemsUsed.has(systems.bed)) return 'bed';
  if (systemsUsed.has(systems.room)) return 'room';
  if (systemsUsed.has(systems.department)) return 'department';
  const code = location.physicalType?.coding?.find((c) => c.system === systems.physicalType)?.code;
  if (code === 'bd') return 'bed';
  if (code === 'ro') return 'room';
  return 'department';
}

function earliestInstant(encounters: readonly { resource: unknown }[]): Date | undefined {
  let min: number | undefined;
  for (const { resource } of encounters) {
    const encounter = resource as FhirEncounterIn;
    const times = [
      encounter.period?.start,
      ...(encounter.location ?? []).map((location) => location.period?.start),
    ];
    for (const time of times) {
      const ms = time ? Date.parse(time) : Number.NaN;
      if (!Number.isNaN(ms) && (min === undefined || ms < min)) min = ms;
    }
  }
  return min === undefined ? undefined : new Date(min);
}

/** The sort order of departments an import creates: the same as HL7 feeds give theirs. */
const importedSortOrder = 1000;

/**
 * What stands for a Location's name when it has none (Synthea's patient homes): its physical
 * type and id, so each stays its own department ("House bb1ad573-…" → HOUSE-BB1AD573-…).
 */
function unnamedLocation(location: FhirLocationIn): string {
  const type = location.physicalType?.coding?.find((c) => c.system === systems.physicalType);
  return `${type?.display?.trim() || 'Location'} ${location.id}`;
}

function identifierValue(location: FhirLocationIn, system: string): string | undefined {
  return location.identifier?.find((identifier) => identifier.system === system)?.value;
}

function extensionOf(list: readonly FhirExtension[] | undefined, url: string) {
  return list?.find((extension) => extension.url === url);
}

function invalid(reason: string, message: string) {
  return new MedaxisError(ErrorCode.validation, reason, message);
}

function notFound(reason: string, message: string) {
  return new MedaxisError(ErrorCode.notFound, reason, message);
}

/** What one run knows as it goes: ids of what it imported, notes, counts. */
class ImportState {
  readonly fullUrls = new Map<string, string>();
  readonly locations = new Map<string, LocationTarget>();
  readonly notes: string[] = [];
  historyStart: Date | undefined;
  commands = 0;
  private siteId: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly now: Date,
    private readonly audit: ImportAuditSink | undefined,
    /** One resource without its Bundle (applyFhirResource): references resolve in the db. */
    private readonly context: { standalone: boolean } = { standalone: false },
  ) {}

  apply<T extends SupportedType>(type: T, resource: Parsed<T>): Promise<void> {
    switch (type) {
      case 'Organization':
        return this.organization(resource as FhirOrganizationIn);
      case 'Practitioner':
        return this.practitioner(resource as FhirPractitionerIn);
      case 'PractitionerRole':
        return this.practitionerRole(resource as FhirPractitionerRoleIn);
      case 'Location':
        return this.location(resource as FhirLocationIn);
      case 'Patient':
        return this.patient(resource as FhirPatientIn);
      case 'Encounter':
        return this.encounter(resource as FhirEncounterIn);
      default:
        throw invalid('unsupported_resource_type', `MedAxis does not import ${type}.`);
    }
  }

  private note(text: string) {
    this.notes.push(text);
  }

  /** `Type/id`, `urn:uuid:…` (through the Bundle's fullUrls) or an absolute URL. */
  private referenceId(reference: string | undefined, type: string): string | undefined {
    if (!reference) return undefined;
    let local = this.fullUrls.get(reference) ?? reference;
    if (this.context.standalone && local.startsWith('urn:uuid:')) {
      local = `${type}/${local.slice('urn:uuid:'.length)}`;
    }
    const match = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(local);
    return match?.[1];
  }

  private async organizationRef(
    db: Tx | Db,
    ref: { reference?: string | undefined; identifier?: Partial<DirectoryIdentifier> } | undefined,
  ): Promise<string | null> {
    if (!ref) return null;
    const fhirId = this.referenceId(ref.reference, 'Organization');
    const identifier =
      ref.identifier?.value !== undefined
        ? { system: ref.identifier.system, value: ref.identifier.value }
        : undefined;
    const found = await findOrganization(db, {
      id: fhirId ? medaxisId('Organization', fhirId) : undefined,
      identifier,
    });
    if (!found) this.note('unknown organization: reference left out');
    return found ?? null;
  }

  // ---- directory -----------------------------------------------------------------------------

  private async organization(org: FhirOrganizationIn) {
    const partOf = org.partOf ? await this.organizationRef(this.db, org.partOf) : null;
    await upsertOrganization(this.db, {
      id: medaxisId('Organization', org.id),
      name: org.name,
      type: org.type?.[0]?.coding?.[0]?.code ?? null,
      active: org.active ?? true,
      identifiers: (org.identifier ?? []).map((i) => ({ system: i.system, value: i.value })),
      telecom: (org.telecom ?? []).map(normalizeTelecom),
      addresses: (org.address ?? []).map(normalizeAddress),
      partOfId: partOf,
    });
  }

  private async practitioner(p: FhirPractitionerIn) {
    const name = p.name?.[0];
    await upsertPractitioner(this.db, {
      id: medaxisId('Practitioner', p.id),
      familyName: name?.family ?? null,
      givenName: name?.given?.join(' ') || null,
      prefix: name?.prefix?.[0] ?? null,
      sex: sexOf(p.gender),
      active: p.active ?? true,
      identifiers: (p.identifier ?? []).map((i) => ({ system: i.system, value: i.value })),
      telecom: (p.telecom ?? []).map(normalizeTelecom),
      addresses: (p.address ?? []).map(normalizeAddress),
      specialty: null,
      organizationId: null,
    });
  }

  private async practitionerRole(role: FhirPractitionerRoleIn) {
    const fhirId = this.referenceId(role.practitioner.reference, 'Practitioner');
    const identifier = role.practitioner.identifier;
    const practitionerId = await findPractitioner(this.db, {
      id: fhirId ? medaxisId('Practitioner', fhirId) : undefined,
      identifier:
        identifier?.value !== undefined
          ? { system: identifier.system, value: identifier.value }
          : undefined,
    });
    if (!practitionerId) {
      throw notFound('unknown_practitioner', 'The role names a practitioner not imported.');
    }
    const specialty = role.specialty?.[0];
    await setPractitionerRole(this.db, {
      practitionerId,
      organizationId: await this.organizationRef(this.db, role.organization),
      specialty: specialty?.text ?? specialty?.coding?.[0]?.display ?? null,
    });
  }

  // ---- locations -----------------------------------------------------------------------------

  private async site(tx: Tx | Db): Promise<number> {
    if (this.siteId !== undefined) return this.siteId;
    const site = await getSite(tx);
    this.siteId =
      site?.id ?? (await ensureSite(tx, { code: 'MAIN', name: 'Hospital', timeZone: 'UTC' }));
    return this.siteId;
  }

  private bedSince(): Date {
    return this.historyStart && this.historyStart < this.now ? this.historyStart : this.now;
  }

  /** A department, room or bed, created when new; its status waits for applyBedStatus. */
  private async location(location: FhirLocationIn) {
    const key = `Location/${location.id}`;
    const kind = locationKind(location);
    await withTransaction(this.db, async (tx) => {
      if (kind === 'department') {
        const stated = identifierValue(location, systems.department);
        const code = stated
          ? statedDepartmentCode(stated)
          : departmentCodeOf(location.name?.trim() || unnamedLocation(location));
        // The sender's location, not one the hospital configured: it waits for review, after
        // the configured departments, as HL7 feeds' locations do. An existing department of
        // that code (the hospital's own) is used unchanged.
        const departmentId = await ensureDepartment(tx, await this.site(tx), {
          code,
          name: location.name?.trim() || unnamedLocation(location),
          kind: departmentKindOf(location.type?.flatMap((t) => t.coding ?? []) ?? []),
          sortOrder: importedSortOrder,
          needsReview: true,
        });
        if (location.managingOrganization) {
          const org = await this.organizationRef(tx, location.managingOrganization);
          if (org) await setDepartmentOrganization(tx, departmentId, org);
        }
        this.locations.set(key, { departmentId });
        return;
      }
      const parentKey = this.referenceId(location.partOf?.reference, 'Location');
      const parent = parentKey ? await this.knownLocation(tx, parentKey) : undefined;
      if (kind === 'room') {
        if (!parent || parent.roomId !== undefined || parent.bedId !== undefined) {
          throw notFound('room_without_department', 'Location.partOf names no department.');
        }
        const code =
          identifierValue(location, systems.room)?.split('/').at(-1) ??
          (location.name?.trim() || location.id);
        const roomId = await ensureRoom(tx, parent.departmentId, code);
        this.locations.set(key, { departmentId: parent.departmentId, roomId });
        return;
      }
      if (!parent || parent.bedId !== undefined) {
        throw notFound('bed_without_room', 'Location.partOf names no room or department.');
      }
      const roomId = parent.roomId ?? (await ensureRoom(tx, parent.departmentId, 'MAIN'));
      const code = identifierValue(location, systems.bed) ?? location.id;
      const type = extensionOf(location.extension, extensions.bedType)?.valueCode;
      const bedId = await ensureBed(tx, {
        roomId,
        code,
        since: this.bedSince(),
        ...(type ? { type } : {}),
      });
      this.locations.set(key, { departmentId: parent.departmentId, roomId, bedId, bedCode: code });
    });
  }

  /**
   * Brings a bed to the status its Location states, through bed commands (block, cleaning,
   * isolation…). Occupied and reserved come only from encounters; a status the commands
   * cannot reach is refused, so what the board shows is never made up.
   */
  async applyBedStatus(bedId: number, location: FhirLocationIn) {
    const code = location.operationalStatus?.code;
    const wish = bedStatusOf0116(code);
    const own = extensionOf(location.extension, extensions.bedStatus)?.valueCode;
    const status = (own as BedStatusName | undefined) ?? wish.status;
    const reason =
      extensionOf(location.extension, extensions.bedStatusReason)?.valueString ?? wish.reason;
    const isolation =
      extensionOf(location.extension, extensions.isolation)?.valueBoolean ?? wish.isolation;
    if (status === undefined && isolation === undefined) return;

    await withTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<{ status: BedStatusName; isolation: boolean }>(
        `SELECT status::text AS status, isolation FROM bed WHERE id = $1`,
        [bedId],
      );
      const bed = rows[0]!;
      const at = this.now;
      const commands: Command[] = [];
      if (status !== undefined && status !== bed.status) {
        commands.push(...bedCommandsFor(bedId, bed.status, status, reason, at));
      }
      if (isolation !== undefined && isolation !== bed.isolation) {
        commands.push({ type: 'set-isolation', bedId, isolation, at });
      }
      for (const command of commands) await this.command(tx, command);
    });
  }

  private async command(tx: Tx, command: Command) {
    await applyCommand(tx, command, {
      source: fhirImportSource,
      options: historyCommandOptions(this.now),
    });
    this.commands++;
  }

  // ---- patients and encounters ---------------------------------------------------------------

  private async patient(patient: FhirPatientIn) {
    const identifiers = (patient.identifier ?? []).map((identifier) => ({
      system: authorityOf(identifier.system),
      value: identifier.value,
      type:
        identifier.type?.coding?.find((c) => c.system === systems.identifierType)?.code ??
        identifier.type?.coding?.[0]?.code ??
        null,
    }));
    // The MRN is the identifier typed MR, else the first: MedAxis then types it MR.
    const mrn = identifiers.find((i) => i.type === 'MR') ?? identifiers[0];
    if (mrn) mrn.type = 'MR';
    let birthDate: string | null = null;
    if (patient.birthDate !== undefined) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate)) birthDate = patient.birthDate;
      else this.note('birth date not a full date: not kept');
    }
    if (patient.deceasedBoolean === true && !patient.deceasedDateTime) {
      this.note('deceased without a date: not kept');
    }
    const patientId = await withTransaction(this.db, async (tx) => {
      const result = await upsertPatientRecord(tx, {
        id: medaxisId('Patient', patient.id),
        mrn: mrn
          ? { authority: mrn.system, value: mrn.value }
          : hasDemographics(patient)
            ? { authority: 'FHIR', value: patient.id }
            : null,
        identifiers,
        names: (patient.name ?? []).map(normalizeName),
        birthDate,
        sex: sexOf(patient.gender),
        addresses: (patient.address ?? []).map(normalizeAddress),
        telecom: (patient.telecom ?? []).map(normalizeTelecom),
        contacts: (patient.contact ?? []).map((contact) =>
          normalizeContact({
            relationship: contact.relationship
              ?.map((r) => r.text ?? r.coding?.[0]?.display ?? r.coding?.[0]?.code)
              .filter((r): r is string => r !== undefined),
            name: contact.name,
            telecom: contact.telecom,
            address: contact.address,
          }),
        ),
        deceasedAt: patient.deceasedDateTime ? new Date(patient.deceasedDateTime) : null,
        managingOrganizationId: await this.organizationRef(tx, patient.managingOrganization),
      });
      return result.patientId;
    });
    this.audit?.defer({
      source: fhirImportSource,
      operation: 'import.fhir.Patient',
      action: 'write',
      actor: systemActor,
      purpose: 'operations',
      resourceType: 'patient',
      resourceId: patientId,
      patientIds: [patientId],
      outcome: 'allowed',
    });
  }

  private async encounter(encounter: FhirEncounterIn) {
    const subject = this.referenceId(encounter.subject.reference, 'Patient');
    if (!subject) throw invalid('no_subject', 'Encounter.subject names no Patient.');
    const encounterClass = encounterClassOf(encounter.class.code);
    if (!encounterClass) {
      throw invalid('unknown_class', `Encounter class ${encounter.class.code ?? '(none)'}.`);
    }
    const source = encounter.identifier?.find((i) => i.system?.startsWith(systems.sourcePrefix));
    const id = medaxisId('Encounter', encounter.id);

    const result = await withTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `SELECT coalesce(merged_into_id, id) AS id FROM patient WHERE id = $1`,
        [medaxisId('Patient', subject)],
      );
      const patientId = rows[0]?.id;
      if (!patientId) throw notFound('unknown_patient', 'Encounter.subject is not imported.');
      const { encounterId } = await ensureEncounterRecord(tx, {
        id,
        patientId,
        class: encounterClass,
        // A visit keeps where it came from; one from elsewhere keeps its FHIR id as its source.
        sourceSystem: source
          ? source.system!.slice(systems.sourcePrefix.length)
          : isUuid(encounter.id)
            ? null
            : 'fhir',
        sourceRef: source ? source.value : isUuid(encounter.id) ? null : encounter.id,
      });
      const plan = await this.planStays(tx, encounter);
      await this.applyStays(tx, encounterId, encounter, plan);

      const attendingRef =
        encounter.participant?.find((p) =>
          p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND')),
        )?.individual ?? encounter.participant?.[0]?.individual;
      const attendingFhirId = this.referenceId(attendingRef?.reference, 'Practitioner');
      const attendingId = attendingFhirId
        ? await findPractitioner(tx, { id: medaxisId('Practitioner', attendingFhirId) })
        : undefined;
      if (attendingFhirId && !attendingId) this.note('unknown practitioner: attending left out');
      const departmentRef = extensionOf(encounter.extension, extensions.department)?.valueReference;
      const departmentKey = this.referenceId(departmentRef?.reference, 'Location');
      const department = departmentKey
        ? (await this.knownLocation(tx, departmentKey))?.departmentId
        : undefined;
      const hasStays = plan.segments.length > 0 || plan.reserve !== undefined;
      await setEncounterDetails(tx, encounterId, {
        class: encounterClass,
        status: hasStays ? undefined : encounterStatusOf(encounter.status),
        admittedAt: encounter.period?.start ? new Date(encounter.period.start) : null,
        dischargedAt: encounter.period?.end ? new Date(encounter.period.end) : null,
        departmentId: department ?? plan.departmentId ?? null,
        organizationId: await this.organizationRef(tx, encounter.serviceProvider),
        attendingId: attendingId ?? null,
      });
      return { encounterId, patientId };
    });
    this.audit?.defer({
      source: fhirImportSource,
      operation: 'import.fhir.Encounter',
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

  /**
   * A Location this run imported; for a resource applied alone, the department or bed the
   * database holds under that code (or under the code in a `dept-…`/`bed-…` id).
   */
  private async knownLocation(tx: Tx, fhirId: string): Promise<LocationTarget | undefined> {
    const known = this.locations.get(`Location/${fhirId}`);
    if (known || !this.context.standalone) return known;
    const { rows } = await tx.query<LocationTarget>(
      `SELECT id AS "departmentId" FROM department WHERE code = ANY($1::text[])`,
      [[fhirId, fhirId.replace(/^dept-/, '')]],
    );
    if (rows[0]) return rows[0];
    const beds = await tx.query<LocationTarget>(
      `SELECT b.id AS "bedId", b.code AS "bedCode", r.department_id AS "departmentId",
              r.id AS "roomId"
         FROM bed b JOIN room r ON r.id = b.room_id WHERE b.code = ANY($1::text[])`,
      [[fhirId, fhirId.replace(/^bed-/, '')]],
    );
    return beds.rows[0];
  }

  /** Where the location history says the patient lay: bed segments in time order. */
  private async planStays(tx: Tx, encounter: FhirEncounterIn): Promise<StayPlan> {
    const plan: StayPlan = { segments: [], reserve: undefined, departmentId: undefined };
    const entries = [...(encounter.location ?? [])].sort(
      (a, b) => Date.parse(a.period?.start ?? '') - Date.parse(b.period?.start ?? ''),
    );
    for (const [index, item] of entries.entries()) {
      const target = await this.encounterLocation(tx, item.location);
      if (!target?.bedId) {
        if (target) plan.departmentId = target.departmentId;
        this.note('location without a bed: not a bed stay');
        continue;
      }
      plan.departmentId = target.departmentId;
      if (!item.period?.start) {
        this.note('bed location without a start: not a bed stay');
        continue;
      }
      const start = new Date(item.period.start);
      const end = item.period.end ? new Date(item.period.end) : null;
      const status = item.status ?? (end ? 'completed' : 'active');
      const last = plan.segments.at(-1);
      const continues =
        last?.bedId === target.bedId &&
        (last.end === null || last.end.getTime() >= start.getTime());
      if (status === 'planned' || status === 'reserved') {
        if (continues) {
          // On leave with the bed held (the spec's own example): the stay goes on.
          this.note('bed held while on leave: the stay goes on');
          last.end = end;
        } else if (index === entries.length - 1 && end === null) {
          plan.reserve = { bedId: target.bedId, at: start };
        } else {
          this.note('past reservation: not applied');
        }
        continue;
      }
      if (continues) {
        last.end = end;
        continue;
      }
      plan.segments.push({ bedId: target.bedId, start, end });
    }
    return plan;
  }

  /** The bed or department an Encounter.location names; beds named only in text are created. */
  private async encounterLocation(
    tx: Tx,
    ref: { reference?: string | undefined; display?: string | undefined },
  ): Promise<LocationTarget | undefined> {
    const fhirId = this.referenceId(ref.reference, 'Location');
    if (fhirId) {
      const known = this.locations.get(`Location/${fhirId}`);
      if (known) return known;
      const bedCode = fhirId.startsWith('bed-') ? fhirId.slice(4) : fhirId;
      const { rows } = await tx.query<{ bedId: number; departmentId: number; roomId: number }>(
        `SELECT b.id AS "bedId", r.department_id AS "departmentId", r.id AS "roomId"
           FROM bed b JOIN room r ON r.id = b.room_id WHERE b.code = ANY($1::text[])`,
        [[fhirId, bedCode]],
      );
      if (rows[0]) return rows[0];
      throw notFound('unknown_location', `Encounter.location names ${fhirId}, not imported.`);
    }
    // "Ward 1, Room 42, Bed 1": a bed not configured yet, created and flagged for review.
    const parts = (ref.display ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    if (parts.length < 3) return undefined;
    const key = `display:${parts.join(', ')}`;
    const known = this.locations.get(key);
    if (known) return known;
    const departmentCode = departmentCodeOf(parts[0]!);
    const departmentId = await ensureDepartment(tx, await this.site(tx), {
      code: departmentCode,
      name: parts[0]!,
      kind: 'other',
      sortOrder: importedSortOrder,
      needsReview: true,
    });
    const roomId = await ensureRoom(tx, departmentId, codeOf(parts[1]!));
    const bedCode = codeOf(parts.join(' '));
    const bedId =
      (await findBedByCode(tx, bedCode)) ??
      (await ensureBed(tx, { roomId, code: bedCode, since: this.bedSince(), needsReview: true }));
    this.note('bed named only in text: created and flagged for review');
    const target = { departmentId, roomId, bedId, bedCode };
    this.locations.set(key, target);
    return target;
  }

  /** The plan as domain commands; those the stays already reflect are skipped (re-runs). */
  private async applyStays(
    tx: Tx,
    encounterId: string,
    encounter: FhirEncounterIn,
    plan: StayPlan,
  ) {
    const { rows } = await tx.query<{ bedId: number; startAt: Date; dischargedAt: Date | null }>(
      `SELECT s.bed_id AS "bedId", s.start_at AS "startAt", e.discharged_at AS "dischargedAt"
         FROM encounter e LEFT JOIN bed_stay s ON s.encounter_id = e.id AND NOT s.cancelled
        WHERE e.id = $1`,
      [encounterId],
    );
    const stays = new Set(rows.map((row) => `${row.bedId} ${row.startAt?.getTime()}`));
    const dischargedAt = rows[0]?.dischargedAt?.getTime();
    const commands: Command[] = [];
    plan.segments.forEach((segment, index) => {
      if (stays.has(`${segment.bedId} ${segment.start.getTime()}`)) return;
      commands.push({
        type: index === 0 ? 'admit' : 'transfer',
        encounterId,
        bedId: segment.bedId,
        at: segment.start,
      });
    });
    const last = plan.segments.at(-1);
    let dischargeAt = last?.end ?? null;
    if (last && dischargeAt === null && encounter.status === 'finished') {
      dischargeAt = encounter.period?.end ? new Date(encounter.period.end) : null;
      if (dischargeAt === null) this.note('finished without an end: left in its bed');
    } else if (last?.end && encounter.status !== 'finished') {
      this.note('last bed stay ended before the visit: discharged from the bed');
    }
    if (dischargeAt && dischargedAt !== dischargeAt.getTime()) {
      commands.push({ type: 'discharge', encounterId, at: dischargeAt });
    }
    if (plan.reserve) {
      const { rows: held } = await tx.query(
        `SELECT 1 FROM bed WHERE id = $1 AND encounter_id = $2 AND status = 'reserved'`,
        [plan.reserve.bedId, encounterId],
      );
      if (held.length === 0) {
        commands.push({
          type: 'reserve',
          bedId: plan.reserve.bedId,
          encounterId,
          at: plan.reserve.at,
        });
      }
    }
    for (const command of commands) await this.command(tx, command);
  }
}

interface StayPlan {
  segments: { bedId: number; start: Date; end: Date | null }[];
  reserve: { bedId: number; at: Date } | undefined;
  departmentId: number | undefined;
}

/** The bed commands that take a bed from one status to another, or a refusal. */
function bedCommandsFor(
  bedId: number,
  from: BedStatusName,
  to: BedStatusName,
  reason: string | null,
  at: Date,
): Command[] {
  const unreachable = () =>
    new MedaxisError(
      ErrorCode.conflict,
      'bed_status_unreachable',
      `The bed is ${from}; ${to} comes only from an encounter or a discharge.`,
    );
  const leave: Command[] =
    from === 'blocked'
      ? [{ type: 'unblock', bedId, at }]
      : from === 'reserved'
        ? [{ type: 'release', bedId, at }]
        : [];
  switch (to) {
    case 'free':
      if (from === 'housekeeping' || from === 'cleaning') {
        return [{ type: 'cleaning-finished', bedId, at }];
      }
      if (from === 'occupied') throw unreachable();
      return leave;
    case 'cleaning':
      if (from === 'housekeeping') return [{ type: 'cleaning-started', bedId, at }];
      throw unreachable();
    case 'blocked':
      if (from === 'occupied' || from === 'reserved') throw unreachable();
      return [{ type: 'block', bedId, reason: reason ?? 'closed', at }];
    case 'housekeeping':
    case 'occupied':
    case 'reserved':
      throw unreachable();
  }
}
