import { readFile } from 'node:fs/promises';

import { parse, type CsvError } from 'csv-parse/sync';

import { departmentKinds, isDepartmentKind, type DepartmentKind } from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';

/*
 * The plain CSV of departments, rooms and beds (README "Locations from a CSV file"): one row
 * per bed, or per department (room and bed empty), or per room (bed empty). Reading checks each
 * row on its own; whether it fits what the database already holds is import-locations' part.
 */

export const locationColumns = [
  'department',
  'department_name',
  'kind',
  'sort_order',
  'room',
  'bed',
  'bed_type',
  'tags',
] as const;
export type LocationColumn = (typeof locationColumns)[number];

/** The column every file must have; the others may be left out of the header. */
const requiredColumns: readonly LocationColumn[] = ['department'];

const departmentCodePattern = /^[A-Za-z0-9_-]{1,32}$/;
const roomCodePattern = /^[A-Za-z0-9._-]{1,32}$/;
const bedCodePattern = /^[A-Za-z0-9._-]{1,64}$/;
const tagPattern = /^[a-z0-9_-]{1,32}$/;

/** One row as read: its line (the header is line 1) and its cells by column. */
export interface LocationCsvRow {
  line: number;
  raw: Record<string, string>;
}

/** A row that reads as a location: what it names, with empty cells as null. */
export interface LocationRow {
  line: number;
  raw: Record<string, string>;
  department: string;
  departmentName: string | null;
  kind: DepartmentKind | null;
  sortOrder: number | null;
  room: string | null;
  bed: string | null;
  bedType: string | null;
  /** null: the column was empty (keep what the bed has); [] never comes from a file. */
  tags: string[] | null;
}

export interface RowProblem {
  line: number;
  raw: Record<string, string>;
  code: string;
  reason: string;
}

export interface LocationFile {
  rows: LocationRow[];
  problems: RowProblem[];
  /** Data rows in the file, good and bad. */
  read: number;
}

/**
 * Reads a locations CSV. A file that is not one (no header, unknown or missing columns) is
 * refused as a whole (VALIDATION, bad_locations_file); a bad row becomes a problem of its own
 * and the other rows stand.
 */
export async function readLocationsFile(path: string): Promise<LocationFile> {
  const text = await readFile(path, 'utf8');
  return readLocationsCsv(text);
}

export function readLocationsCsv(text: string): LocationFile {
  const problems: RowProblem[] = [];
  const records = parse(text, {
    bom: true,
    info: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      problems.push({
        line: typeof error?.lines === 'number' ? error.lines : 0,
        raw: { text: (raw ?? '').slice(0, 500) },
        code: 'unreadable_row',
        reason: `The row is not valid CSV: ${error?.message ?? 'unknown error'}`,
      });
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];

  const [header, ...data] = records;
  if (!header) throw fileError('The file is empty: it needs a header row.');
  const columns = header.record.map((name) => name.toLowerCase());
  checkHeader(columns);

  const rows: LocationRow[] = [];
  for (const { record, info } of data) {
    const raw = Object.fromEntries(columns.map((name, index) => [name, record[index] ?? '']));
    if (record.every((cell) => cell === '')) continue;
    if (record.length !== columns.length) {
      problems.push({
        line: info.lines,
        raw: {
          ...raw,
          ...(record.length > columns.length
            ? { extra: record.slice(columns.length).join(',') }
            : {}),
        },
        code: 'wrong_column_count',
        reason: `The row has ${record.length} cells; the header names ${columns.length} columns.`,
      });
      continue;
    }
    const checked = checkLocationRow(info.lines, raw);
    if ('code' in checked) problems.push(checked);
    else rows.push(checked);
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows, problems, read: rows.length + problems.length };
}

function checkHeader(columns: string[]) {
  const known = new Set<string>(locationColumns);
  const unknown = columns.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw fileError(
      `Unknown column(s) ${unknown.join(', ')}; the columns are ${locationColumns.join(', ')}.`,
    );
  }
  const twice = columns.filter((name, index) => columns.indexOf(name) !== index);
  if (twice.length > 0) throw fileError(`Column(s) ${twice.join(', ')} appear twice.`);
  const missing = requiredColumns.filter((name) => !columns.includes(name));
  if (missing.length > 0) throw fileError(`The header has no ${missing.join(', ')} column.`);
}

/** Checks one row on its own (the line only names it): a location, or why it is not one. */
export function checkLocationRow(
  line: number,
  raw: Record<string, string>,
): LocationRow | RowProblem {
  const problem = (code: string, reason: string): RowProblem => ({ line, raw, code, reason });
  const cell = (name: LocationColumn) => {
    const value = raw[name] ?? '';
    return value === '' ? null : value;
  };

  const department = cell('department');
  if (department === null) return problem('missing_department', 'The department is empty.');
  if (!departmentCodePattern.test(department)) {
    return problem('bad_department_code', 'Department codes are 1 to 32 letters, digits, - and _.');
  }
  const kind = cell('kind');
  if (kind !== null && !isDepartmentKind(kind)) {
    return problem('bad_kind', `The kind is none of ${departmentKinds.join(', ')}.`);
  }
  const sortOrderText = cell('sort_order');
  const sortOrder = sortOrderText === null ? null : Number(sortOrderText);
  if (sortOrder !== null && !(Number.isInteger(sortOrder) && Math.abs(sortOrder) < 1_000_000)) {
    return problem('bad_sort_order', 'The sort order is not a whole number.');
  }
  const departmentName = cell('department_name');
  if (departmentName !== null && departmentName.length > 200) {
    return problem('bad_department_name', 'The department name is longer than 200 characters.');
  }

  const room = cell('room');
  const bed = cell('bed');
  if (room !== null && !roomCodePattern.test(room)) {
    return problem('bad_room_code', 'Room codes are 1 to 32 letters, digits, ., - and _.');
  }
  if (bed !== null && room === null) return problem('missing_room', 'A bed needs its room.');
  if (bed !== null && !bedCodePattern.test(bed)) {
    return problem('bad_bed_code', 'Bed codes are 1 to 64 letters, digits, ., - and _.');
  }
  const bedType = cell('bed_type');
  const tagsText = cell('tags');
  if (bed === null && (bedType !== null || tagsText !== null)) {
    return problem('bed_fields_without_bed', 'A bed type or tags are given but no bed.');
  }
  if (bedType !== null && !tagPattern.test(bedType)) {
    return problem('bad_bed_type', 'Bed types are 1 to 32 lower-case letters, digits, - and _.');
  }
  const tags = tagsText === null ? null : [...new Set(tagsText.split(';').map((t) => t.trim()))];
  if (tags?.some((tag) => !tagPattern.test(tag))) {
    return problem(
      'bad_tags',
      'Tags are separated by ";", each 1 to 32 lower-case letters, digits, - and _.',
    );
  }

  return {
    line,
    raw,
    department,
    departmentName,
    kind,
    sortOrder,
    room,
    bed,
    bedType,
    tags: tags?.sort() ?? null,
  };
}

function fileError(message: string) {
  return new MedaxisError(ErrorCode.validation, 'bad_locations_file', message);
}
