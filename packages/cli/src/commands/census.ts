import type { Command } from 'commander';

import {
  lastBedStayChange,
  listDepartments,
  occupancyAt,
  type Db,
  type OccupancyRow,
} from '@medaxis/db';

import { openDatabase } from '../context.ts';

export function registerCensus(program: Command): void {
  program
    .command('census')
    .description(
      'occupied beds per department from bed stays, now or at an instant of recorded history: ' +
        'a past one, or one in history dated ahead (MIMIC: 2110-2201) up to its last bed stay',
    )
    .option('--at <instant>', 'ISO 8601 instant with Z or an offset (default: now)')
    .option('--department <code>', 'only this department (any case: icu is ICU)')
    .option(
      '--json',
      'print an array of { department, name, occupied, beds, blocked, open, occupancyPercent }',
    )
    .addHelpText(
      'after',
      '\nOccupancy is occupied over open beds, as on the wall board: blocked beds are closed,\n' +
        'not available capacity.',
    )
    .action(async (options: { at?: string; department?: string; json?: boolean }) => {
      const now = new Date();
      const at = options.at === undefined ? now : parseInstant(options.at);
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        if (at > now) await assertRecorded(database.db, at, now);
        const department =
          options.department === undefined
            ? undefined
            : await resolveDepartment(database.db, options.department);

        const rows = (await occupancyAt(database.db, { at, departmentCode: department })).map(
          (row) => ({ ...row, occupancyPercent: occupancyPercent(row.occupied, row.open) }),
        );
        console.log(options.json ? JSON.stringify(rows, null, 2) : formatTable(rows, at));
      } finally {
        await database.close();
      }
    });
}

/**
 * An instant must say its offset: a bare local time would depend on the zone of whoever runs
 * the command, and census at 02:30 on a DST night would be ambiguous.
 */
function parseInstant(text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(text) || Number.isNaN(at.getTime())) {
    throw new Error(`--at needs an ISO 8601 instant with Z or an offset, not "${text}"`);
  }
  return at;
}

/**
 * A census counts recorded stays. Ahead of the clock that is right only inside imported
 * history dated in the future (MIMIC's shifted 2110–2201); past its last recorded stay, open
 * stays would be counted as if nobody ever left: a forecast the census cannot make.
 */
async function assertRecorded(db: Db, at: Date, now: Date) {
  const last = await lastBedStayChange(db);
  if (last !== null && at <= last) return;
  const latest = last !== null && last > now ? last : now;
  throw new Error(
    `--at ${at.toISOString()} is in the future and after the last recorded bed stay: ` +
      `the census counts what was recorded, it does not forecast. ` +
      `Give an instant up to ${latest.toISOString()}.`,
  );
}

/** The department's canonical code: as the board, codes match in any case (icu is ICU). */
async function resolveDepartment(db: Db, requested: string): Promise<string> {
  const departments = await listDepartments(db);
  const found =
    departments.find((d) => d.code === requested) ??
    departments.find((d) => d.code.toUpperCase() === requested.toUpperCase());
  if (!found) {
    const known = departments.map((d) => d.code).join(', ') || 'none';
    throw new Error(`No department ${requested}. Departments: ${known}`);
  }
  return found.code;
}

/** Occupied over open beds, rounded, as the wall board; null when no bed is open. */
function occupancyPercent(occupied: number, open: number): number | null {
  return open === 0 ? null : Math.round((100 * occupied) / open);
}

function formatTable(rows: OccupancyRow[], at: Date): string {
  const percent = (occupied: number, open: number) => {
    const value = occupancyPercent(occupied, open);
    return value === null ? '-' : `${value}%`;
  };
  const header = ['department', 'name', 'occupied', 'open beds', 'blocked', 'beds', 'occupancy'];
  const body = rows.map((row) => [
    row.department,
    row.name,
    String(row.occupied),
    String(row.open),
    String(row.blocked),
    String(row.beds),
    percent(row.occupied, row.open),
  ]);
  const sum = (pick: (row: OccupancyRow) => number) =>
    rows.reduce((total, row) => total + pick(row), 0);
  const total = {
    occupied: sum((row) => row.occupied),
    open: sum((row) => row.open),
    blocked: sum((row) => row.blocked),
    beds: sum((row) => row.beds),
  };
  const totalLine = [
    'total',
    '',
    String(total.occupied),
    String(total.open),
    String(total.blocked),
    String(total.beds),
    percent(total.occupied, total.open),
  ];

  const table = [header, ...body, totalLine];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    line
      .map((cell, column) =>
        column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const summary =
    `occupancy ${percent(total.occupied, total.open)}: ${total.occupied} of ${total.open} ` +
    `open beds occupied (${total.blocked} of ${total.beds} beds blocked, not counted as open)`;
  return [
    `census at ${at.toISOString()}`,
    render(header),
    ...body.map(render),
    render(totalLine),
    summary,
  ].join('\n');
}
