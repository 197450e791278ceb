import { mergeSorted } from '../merge-sorted.ts';
import { parseMimicTime } from './mimic-time.ts';
import type { CsvRow, MimicFiles } from './read-mimic-files.ts';

export type VisitClass = 'inpatient' | 'emergency' | 'observation';

/** One MIMIC admission (hadm_id), or one ED visit that led to none: one encounter. */
export interface Visit {
  /** `hadm:<hadm_id>` or `ed:<transfer_id>`. */
  key: string;
  /** encounter.source_ref: the hadm_id, or `ed-<transfer_id>` for an ED-only visit. */
  sourceRef: string;
  subjectId: string;
  class: VisitClass;
  admitDecisionAt: Date | null;
}

export type HistoryEventKind = 'admit' | 'transfer' | 'discharge';

export interface HistoryEvent {
  /** Position in the global event-time order, from 0. */
  seq: number;
  visitKey: string;
  kind: HistoryEventKind;
  at: Date;
  /** The care unit of the stay an admit or transfer opens; null for a discharge. */
  careUnit: string | null;
  row: CsvRow;
}

/** A row that cannot become part of the history, with a machine reason and a sentence. */
export interface RowRejection {
  row: CsvRow;
  reason: string;
  message: string;
}

export interface History {
  visits: Map<string, Visit>;
  /** Every event of the accepted rows, in the order they are to be applied. */
  events: HistoryEvent[];
  rejections: RowRejection[];
  warnings: {
    /** Timestamps that fell in a DST gap or overlap of the zone (see parseMimicTime). */
    dstResolvedTimes: number;
    /** Admissions whose last accepted stay no discharge row ends: that stay stays open. */
    visitsLeftOpen: number;
  };
}

interface StayRow {
  row: CsvRow;
  kind: 'stay';
  careUnit: string;
  inAt: Date;
  outAt: Date;
}

interface DischargeRow {
  row: CsvRow;
  kind: 'discharge';
  inAt: Date;
}

type ParsedRow = StayRow | DischargeRow;

const stayEventTypes = new Set(['ED', 'admit', 'transfer']);

/**
 * Turns transfers.csv into encounters and an ordered list of admit/transfer/discharge events.
 *
 * Within an admission, rows are taken by intime: the first stay is an admit, each next stay
 * a transfer at its intime, the discharge row a discharge. A stay must end exactly at its
 * outtime, and the only thing that can end it is the next event: so a row that does not
 * start where the previous accepted stay ended (a gap or an overlap) cannot be applied
 * without moving that end, and is rejected instead. The rows after it are then measured
 * against the same accepted stay. ED rows without hadm_id are visits of their own, admitted
 * at intime and discharged at outtime.
 *
 * Across visits, events are applied in event-time order; at one instant discharges go first,
 * then transfers, then admits, so a bed freed at 10:00 can take the next patient at 10:00.
 */
export function buildHistory(files: MimicFiles, zone: string): History {
  const rejections: RowRejection[] = [];
  const reject = (row: CsvRow, reason: string, message: string) => {
    rejections.push({ row, reason, message });
  };
  let dstResolvedTimes = 0;
  const timeOf = (row: CsvRow, column: string): Date | undefined => {
    const text = row.raw[column] ?? '';
    if (text.trim() === '') {
      reject(row, 'missing_time', `The ${column} is empty.`);
      return undefined;
    }
    const parsed = parseMimicTime(text, zone);
    if (!parsed) {
      reject(row, 'bad_time', `The ${column} "${text}" is not a date and time.`);
      return undefined;
    }
    if (parsed.dstResolved) dstResolvedTimes++;
    return parsed.at;
  };

  const admissions = new Map<string, ParsedRow[]>();
  const edVisits: StayRow[] = [];
  for (const row of files.transfers) {
    const parsed = parseRow(row, timeOf, reject);
    if (!parsed) continue;
    const hadmId = row.raw.hadm_id?.trim() ?? '';
    if (hadmId === '') {
      if (parsed.kind === 'stay' && row.raw.eventtype === 'ED') {
        edVisits.push(parsed);
      } else {
        reject(row, 'missing_hadm_id', `A ${row.raw.eventtype} row needs a hadm_id.`);
      }
      continue;
    }
    const list = admissions.get(hadmId) ?? [];
    list.push(parsed);
    admissions.set(hadmId, list);
  }

  const visits = new Map<string, Visit>();
  const perVisit: Omit<HistoryEvent, 'seq'>[][] = [];
  let visitsLeftOpen = 0;
  for (const [hadmId, rows] of admissions) {
    const visit = admissionVisit(files, hadmId, rows[0]!.row, zone);
    const events = chainAdmission(visit.key, rows, reject);
    if (events.length === 0) continue;
    if (events.at(-1)!.kind !== 'discharge') visitsLeftOpen++;
    visits.set(visit.key, visit);
    perVisit.push(events);
  }
  for (const stay of edVisits) {
    const transferId = stay.row.raw.transfer_id ?? String(stay.row.line);
    const key = `ed:${transferId}`;
    visits.set(key, {
      key,
      sourceRef: `ed-${transferId}`,
      subjectId: stay.row.raw.subject_id ?? '',
      class: 'emergency',
      admitDecisionAt: null,
    });
    perVisit.push([
      { visitKey: key, kind: 'admit', at: stay.inAt, careUnit: stay.careUnit, row: stay.row },
      { visitKey: key, kind: 'discharge', at: stay.outAt, careUnit: null, row: stay.row },
    ]);
  }

  // A plain sort by (time, kind) could put a visit's transfer before its own admit when both
  // share an instant (a stay of zero length): the merge keeps each visit's own order.
  const events = mergeSorted(perVisit, before).map((event, seq) => ({ ...event, seq }));
  rejections.sort((a, b) => a.row.line - b.row.line);
  return { visits, events, rejections, warnings: { dstResolvedTimes, visitsLeftOpen } };
}

function parseRow(
  row: CsvRow,
  timeOf: (row: CsvRow, column: string) => Date | undefined,
  reject: (row: CsvRow, reason: string, message: string) => void,
): ParsedRow | undefined {
  const eventType = row.raw.eventtype?.trim() ?? '';
  if (eventType !== 'discharge' && !stayEventTypes.has(eventType)) {
    reject(row, 'unknown_event_type', `Unknown eventtype "${eventType}".`);
    return undefined;
  }
  if ((row.raw.subject_id?.trim() ?? '') === '') {
    reject(row, 'missing_subject', 'The subject_id is empty.');
    return undefined;
  }
  const inAt = timeOf(row, 'intime');
  if (!inAt) return undefined;
  if (eventType === 'discharge') return { row, kind: 'discharge', inAt };

  const careUnit = row.raw.careunit?.trim() ?? '';
  if (careUnit === '') {
    reject(row, 'missing_careunit', `A ${eventType} row needs a care unit.`);
    return undefined;
  }
  const outAt = timeOf(row, 'outtime');
  if (!outAt) return undefined;
  if (outAt.getTime() < inAt.getTime()) {
    reject(
      row,
      'negative_stay',
      `The outtime ${outAt.toISOString()} is before the intime ${inAt.toISOString()}.`,
    );
    return undefined;
  }
  return { row, kind: 'stay', careUnit, inAt, outAt };
}

function admissionVisit(files: MimicFiles, hadmId: string, first: CsvRow, zone: string): Visit {
  const admission = files.admissions.get(hadmId)?.raw;
  const admissionType = admission?.admission_type ?? '';
  // MIMIC's admittime is when the admission was decided, often while the patient still lies
  // in the ED: the ED boarding time of the board starts there.
  const admitDecisionAt = admission?.admittime
    ? (parseMimicTime(admission.admittime, zone)?.at ?? null)
    : null;
  return {
    key: `hadm:${hadmId}`,
    sourceRef: hadmId,
    subjectId: first.raw.subject_id ?? '',
    class: /OBSERVATION/i.test(admissionType) ? 'observation' : 'inpatient',
    admitDecisionAt,
  };
}

function chainAdmission(
  visitKey: string,
  rows: ParsedRow[],
  reject: (row: CsvRow, reason: string, message: string) => void,
): Omit<HistoryEvent, 'seq'>[] {
  // By intime; a zero-length stay before the one that starts at its end; the discharge last.
  const ordered = [...rows].sort(
    (a, b) => a.inAt.getTime() - b.inAt.getTime() || endOf(a) - endOf(b) || a.row.line - b.row.line,
  );

  const events: Omit<HistoryEvent, 'seq'>[] = [];
  let openUntil: Date | undefined;
  let discharged = false;
  for (const parsed of ordered) {
    const { row, inAt } = parsed;
    if (discharged) {
      reject(row, 'row_after_discharge', 'The admission was already discharged before this row.');
      continue;
    }
    if (openUntil && inAt.getTime() !== openUntil.getTime()) {
      const gap = inAt.getTime() > openUntil.getTime();
      reject(
        row,
        parsed.kind === 'discharge'
          ? 'discharge_time_mismatch'
          : gap
            ? 'gap_before_stay'
            : 'overlaps_previous_stay',
        `It starts at ${inAt.toISOString()}, but the previous stay of the admission ends at ` +
          `${openUntil.toISOString()}${gap ? ': the patient would have no bed between' : ''}.`,
      );
      continue;
    }
    if (parsed.kind === 'discharge') {
      if (!openUntil) {
        reject(row, 'discharge_without_stay', 'The admission has no stay for this row to end.');
        continue;
      }
      events.push({ visitKey, kind: 'discharge', at: inAt, careUnit: null, row });
      discharged = true;
      continue;
    }
    events.push({
      visitKey,
      kind: openUntil ? 'transfer' : 'admit',
      at: inAt,
      careUnit: parsed.careUnit,
      row,
    });
    openUntil = parsed.outAt;
  }
  return events;
}

function endOf(row: ParsedRow): number {
  return row.kind === 'stay' ? row.outAt.getTime() : Number.POSITIVE_INFINITY;
}

const kindRank: Record<HistoryEventKind, number> = { discharge: 0, transfer: 1, admit: 2 };

/** Event-time order; see buildHistory for the order at one instant. */
function before(a: Omit<HistoryEvent, 'seq'>, b: Omit<HistoryEvent, 'seq'>): boolean {
  return (
    (a.at.getTime() - b.at.getTime() ||
      kindRank[a.kind] - kindRank[b.kind] ||
      a.row.line - b.row.line ||
      a.visitKey.localeCompare(b.visitKey)) < 0
  );
}
