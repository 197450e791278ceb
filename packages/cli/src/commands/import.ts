import cliProgress from 'cli-progress';
import type { Command } from 'commander';

import { importMimic, type ImportReport } from '@medaxis/interop';

import { openDatabase } from '../context.ts';
import { registerFhirImport, registerSyntheaImport } from './interop.ts';

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
      // The bar writes to stderr and only on a terminal: piped output and CI logs stay clean.
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: 'importing {bar} {value}/{total} events', hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      try {
        const report = await importMimic(database.db, {
          dir,
          timeZone: options.tz,
          onProgress: (done, total) => {
            if (done === 1) bar?.start(total, 0);
            bar?.update(done);
          },
        });
        bar?.stop();
        console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      } finally {
        bar?.stop();
        await database.close();
      }
    });

  registerFhirImport(importCommand);
  registerSyntheaImport(importCommand);
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
