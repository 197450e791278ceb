import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { realdataDir } from '@medaxis/db/testing';

/**
 * The test's own reading of the MIMIC demo's transfers.csv, deliberately naive and apart
 * from the importer: plain split on commas (the demo has no quoted fields), times as UTC.
 */
export const demoDir = join(realdataDir, 'mimic-iv-demo-2.2');
export const hasDemo = existsSync(join(demoDir, 'hosp/transfers.csv'));
export const skipNote = hasDemo ? '' : ` (skipped: ${demoDir} is missing)`;

export interface DemoRow {
  line: number;
  subjectId: string;
  hadmId: string;
  transferId: string;
  eventType: string;
  careUnit: string;
  inAt: number;
  outAt: number | null;
}

export function readDemoTransfers(): DemoRow[] {
  const lines = readFileSync(join(demoDir, 'hosp/transfers.csv'), 'utf8').trimEnd().split('\n');
  return lines.slice(1).map((text, index) => {
    const [subjectId, hadmId, transferId, eventType, careUnit, inText, outText] = text.split(',');
    return {
      line: index + 2,
      subjectId: subjectId!,
      hadmId: hadmId!,
      transferId: transferId!,
      eventType: eventType!,
      careUnit: careUnit!,
      inAt: utc(inText!),
      outAt: outText ? utc(outText) : null,
    };
  });
}

function utc(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** The encounter source_ref a row belongs to: its hadm_id, or its own ED visit. */
export function visitRef(row: DemoRow): string {
  return row.hadmId || `ed-${row.transferId}`;
}

/** Rows that lie in a bed over [in, out): every row but discharges. */
export function stayRows(rows: DemoRow[]): (DemoRow & { outAt: number })[] {
  return rows.filter((row): row is DemoRow & { outAt: number } => row.eventType !== 'discharge');
}

/** Patients in each care unit at `at`, counted straight from the rows. */
export function countByUnit(rows: DemoRow[], at: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of stayRows(rows)) {
    if (row.inAt <= at && at < row.outAt) {
      counts.set(row.careUnit, (counts.get(row.careUnit) ?? 0) + 1);
    }
  }
  return counts;
}

export interface DemoEvent {
  kind: 'admit' | 'transfer' | 'discharge';
  at: number;
}

/**
 * Each visit's events as the rows describe them: its first stay is an admit, the next ones
 * transfers, its discharge row (or, for an ED-only visit, the end of its row) a discharge.
 */
export function eventsByVisit(rows: DemoRow[]): Map<string, DemoEvent[]> {
  const byVisit = new Map<string, DemoRow[]>();
  for (const row of rows) {
    byVisit.set(visitRef(row), [...(byVisit.get(visitRef(row)) ?? []), row]);
  }
  const events = new Map<string, DemoEvent[]>();
  for (const [ref, visitRows] of byVisit) {
    const stays = stayRows(visitRows).sort((a, b) => a.inAt - b.inAt);
    const list: DemoEvent[] = stays.map((row, index) => ({
      kind: index === 0 ? 'admit' : 'transfer',
      at: row.inAt,
    }));
    const discharge = visitRows.find((row) => row.eventType === 'discharge');
    list.push({ kind: 'discharge', at: discharge ? discharge.inAt : stays.at(-1)!.outAt });
    events.set(ref, list);
  }
  return events;
}
