import type { Command } from 'commander';

import { censusAt, listDepartments, type CensusRow } from '@medaxis/db';

import { openDatabase } from '../context.ts';

export function registerCensus(program: Command): void {
  program
    .command('census')
    .description('occupied beds per department, now or at a past instant, from bed stays')
    .option('--at <instant>', 'ISO 8601 instant with Z or an offset (default: now)')
    .option('--department <code>', 'only this department')
    .option('--json', 'print an array of { department, name, occupied, beds }')
    .action(async (options: { at?: string; department?: string; json?: boolean }) => {
      const at = options.at === undefined ? new Date() : parseInstant(options.at);
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const rows = await censusAt(database.db, { at, departmentCode: options.department });
        if (options.department !== undefined && rows.length === 0) {
          // No row: a department without beds, or none of that code (say which).
          const known = (await listDepartments(database.db)).map((d) => d.code);
          if (!known.includes(options.department)) {
            throw new Error(
              `No department ${options.department}. Departments: ${known.join(', ') || 'none'}`,
            );
          }
        }
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

function formatTable(rows: CensusRow[], at: Date): string {
  const header = ['department', 'name', 'occupied', 'beds', 'occupancy'];
  const body = rows.map((row) => [
    row.department,
    row.name,
    String(row.occupied),
    String(row.beds),
    row.beds === 0 ? '-' : `${Math.round((100 * row.occupied) / row.beds)}%`,
  ]);
  const occupied = rows.reduce((sum, row) => sum + row.occupied, 0);
  const beds = rows.reduce((sum, row) => sum + row.beds, 0);
  const total = [
    'total',
    '',
    String(occupied),
    String(beds),
    beds === 0 ? '-' : `${Math.round((100 * occupied) / beds)}%`,
  ];
  const table = [header, ...body, total];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const numeric = new Set([2, 3, 4]);
  const render = (line: string[]) =>
    line
      .map((cell, column) =>
        numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [`census at ${at.toISOString()}`, render(header), ...body.map(render), render(total)].join(
    '\n',
  );
}
