import type { Command } from 'commander';

import { auditWriterFor } from '@medaxis/audit';
import {
  importLocations,
  importMimic,
  type ImportReport,
  type LocationsReport,
} from '@medaxis/interop';

import { openDatabase } from '../context.ts';
import { registerImportRejections } from './import-rejections.ts';
import { registerFhirImport, registerSyntheaImport } from './interop.ts';
import { progressBar } from '../progress.ts';

export function registerImport(program: Command): void {
  const importCommand = program.command('import').description('import data from other systems');

  importCommand
    .command('mimic <dir>')
    .description(
      'load the MIMIC-IV (demo) patients, admissions and transfers as encounters and bed stays',
    )
    .option('--tz <zone>', 'IANA time zone MIMIC timestamps are read in', 'UTC')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, options: { tz: string; json?: boolean }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      const bar = progressBar('events');
      try {
        const report = await importMimic(database.db, {
          dir,
          timeZone: options.tz,
          audit: auditWriterFor(database.db),
          onProgress: bar.update,
        });
        bar.stop();
        console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      } finally {
        bar.stop();
        await database.close();
      }
    });

  registerFhirImport(importCommand);
  registerSyntheaImport(importCommand);

  importCommand
    .command('locations <file>')
    .description(
      'create or update departments, rooms and beds from a CSV file (format: README, ' +
        '"Locations from a CSV file"); rejected rows are reported and kept in import_rejection',
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      const bar = progressBar('rows');
      try {
        const report = await importLocations(database.db, { file, onProgress: bar.update });
        bar.stop();
        console.log(options.json ? JSON.stringify(report, null, 2) : formatLocations(report));
      } finally {
        bar.stop();
        await database.close();
      }
    });

  registerImportRejections(importCommand);
}

function formatLocations(report: LocationsReport): string {
  const { rows, created, updated } = report;
  const lines = [
    `Locations import run ${report.runId} from ${report.source}`,
    `  rows     ${rows.read} read: ${rows.applied} applied, ${rows.unchanged} unchanged, ` +
      `${rows.rejected} rejected`,
    `  created  ${created.departments} departments, ${created.rooms} rooms, ${created.beds} beds`,
    `  updated  ${updated.departments} departments, ${updated.beds} beds`,
  ];
  if (report.rejectionsResolved > 0) {
    lines.push(`  ${report.rejectionsResolved} rows rejected by earlier runs are now applied`);
  }
  if (report.rejections.length > 0) {
    lines.push('  rejected rows:');
    for (const { line, code, reason } of report.rejections) {
      lines.push(`    line ${String(line).padStart(5)}  ${code}: ${reason}`);
    }
    lines.push(
      `  rejected rows are kept in import_rejection` +
        (report.rejectionsAlreadyKept > 0
          ? ` (${report.rejectionsAlreadyKept} already kept by an earlier run)`
          : ` (run ${report.runId})`),
    );
  }
  return lines.join('\n');
}

function formatReport(report: ImportReport): string {
  const { rows, events, created } = report;
  const lines = [
    `MIMIC-IV import run ${report.runId} from ${report.source} (times read in ${report.timeZone})`,
    `  transfers rows  ${rows.read} read: ${rows.applied} applied, ` +
      `${rows.alreadyImported} already imported, ${rows.rejected} rejected`,
    `  events applied  admit ${events.applied.admit}, transfer ${events.applied.transfer}, ` +
      `discharge ${events.applied.discharge} (${events.alreadyImported} already imported)`,
    `  created         ${created.departments} departments, ${created.beds} beds, ` +
      `${created.patients} patients, ${created.encounters} encounters`,
  ];
  if (report.rejectionsResolved > 0) {
    lines.push(`  ${report.rejectionsResolved} rows rejected by earlier runs are now applied`);
  }
  const reasons = Object.entries(report.rejectedByReason);
  if (reasons.length > 0) {
    const width = Math.max(...reasons.map(([reason]) => reason.length));
    lines.push('  rejected rows by reason:');
    for (const [reason, count] of reasons) lines.push(`    ${reason.padEnd(width)}  ${count}`);
    lines.push(
      `  rejected rows are kept in import_rejection` +
        (report.rejectionsAlreadyKept > 0
          ? ` (${report.rejectionsAlreadyKept} already kept by an earlier run)`
          : ` (run ${report.runId})`),
    );
  }
  if (report.warnings.visitsLeftOpen > 0) {
    lines.push(`  warning: ${report.warnings.visitsLeftOpen} admissions end without a discharge`);
  }
  if (report.warnings.dstResolvedTimes > 0) {
    lines.push(
      `  warning: ${report.warnings.dstResolvedTimes} timestamps fell in a DST change of ` +
        `${report.timeZone} and were resolved by the 'compatible' rule`,
    );
  }
  return lines.join('\n');
}
