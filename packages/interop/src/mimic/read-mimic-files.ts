import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { parse } from 'csv-parse';

import { ErrorCode, MedaxisError } from '@medaxis/domain';

/** One data row of a CSV file, kept raw so a rejected row can be stored exactly as read. */
export interface CsvRow {
  /** Path inside the MIMIC folder, e.g. `hosp/transfers.csv`. */
  file: string;
  /** Line of the file the row ends on; the header is line 1. */
  line: number;
  raw: Record<string, string>;
}

export interface MimicFiles {
  dir: string;
  transfers: CsvRow[];
  /** By hadm_id. */
  admissions: Map<string, CsvRow>;
  /** By subject_id. */
  patients: Map<string, CsvRow>;
}

const transferColumns = ['subject_id', 'hadm_id', 'transfer_id', 'eventtype', 'careunit'];
const timeColumns = ['intime', 'outtime'];

/**
 * Reads hosp/transfers (required), hosp/admissions and hosp/patients (optional: they only add
 * the admit decision time, observation class and sex) from a MIMIC-IV folder. The demo ships
 * plain .csv; the full database ships .csv.gz, read here as well.
 */
export async function readMimicFiles(dir: string): Promise<MimicFiles> {
  const transfers = await readCsv(dir, 'hosp/transfers.csv', [...transferColumns, ...timeColumns]);
  if (!transfers) {
    throw new MedaxisError(
      ErrorCode.validation,
      'missing_file',
      `No hosp/transfers.csv(.gz) in ${dir}: is this a MIMIC-IV folder?`,
    );
  }
  const admissions = await readCsv(dir, 'hosp/admissions.csv', ['hadm_id', 'admittime']);
  const patients = await readCsv(dir, 'hosp/patients.csv', ['subject_id']);

  return {
    dir,
    transfers,
    admissions: new Map((admissions ?? []).map((row) => [row.raw.hadm_id ?? '', row])),
    patients: new Map((patients ?? []).map((row) => [row.raw.subject_id ?? '', row])),
  };
}

async function readCsv(
  dir: string,
  file: string,
  requiredColumns: string[],
): Promise<CsvRow[] | undefined> {
  const input = openMaybeGzipped(join(dir, file));
  if (!input) return undefined;

  const parser = input.pipe(parse({ columns: true, info: true, skip_empty_lines: true }));
  const rows: CsvRow[] = [];
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    if (rows.length === 0) checkColumns(file, record, requiredColumns);
    rows.push({ file, line: info.lines, raw: record });
  }
  return rows;
}

function openMaybeGzipped(path: string): Readable | undefined {
  if (existsSync(path)) return createReadStream(path);
  if (existsSync(`${path}.gz`)) return createReadStream(`${path}.gz`).pipe(createGunzip());
  return undefined;
}

function checkColumns(file: string, record: Record<string, string>, required: string[]) {
  const missing = required.filter((column) => !(column in record));
  if (missing.length > 0) {
    throw new MedaxisError(
      ErrorCode.validation,
      'missing_column',
      `${file} lacks the column(s) ${missing.join(', ')}.`,
    );
  }
}
