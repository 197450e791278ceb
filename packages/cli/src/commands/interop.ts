import cliProgress from 'cli-progress';
import type { Command } from 'commander';

import { AuditWriter } from '@medaxis/audit';
import {
  exportFhir,
  importFhir,
  importSynthea,
  type FhirImportReport,
  type SyntheaImportReport,
} from '@medaxis/interop';

import { openDatabase } from '../context.ts';
import { systemAccess } from '../system-access.ts';

/** A progress bar on stderr, only on a terminal: piped output and CI logs stay clean. */
export function progressBar(unit: string) {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: `importing {bar} {value}/{total} ${unit}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  return {
    update(done: number, total: number) {
      if (done === 1) bar?.start(total, 0);
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** `medaxis import fhir …` (added to the `import` command). */
export function registerFhirImport(importCommand: Command): void {
  importCommand
    .command('fhir <paths...>')
    .description(
      'load FHIR R4 Bundles, resources (*.json) and NDJSON (*.ndjson) from files or folders: ' +
        'Organization, Practitioner(Role), Location, Patient, Encounter (location history as ' +
        'bed stays); rejected entries are kept with their reason',
    )
    .option('--json', 'print the report as JSON')
    .action(async (paths: string[], options: { json?: boolean }) => {
      systemAccess('patient.write');
      const database = await openDatabase({ log: (message) => console.error(message) });
      const audit = new AuditWriter(database.db);
      const bar = progressBar('entries');
      try {
        const report = await importFhir(database.db, {
          paths,
          audit,
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        console.log(options.json ? JSON.stringify(report, null, 2) : formatFhirReport(report));
      } finally {
        bar.stop();
        await audit.close();
        await database.close();
      }
    });
}

/** `medaxis import synthea <dir>` (added to the `import` command). */
export function registerSyntheaImport(importCommand: Command): void {
  importCommand
    .command('synthea <dir>')
    .description(
      'load Synthea CSV output (organizations, providers, patients, encounters); each row is ' +
        'applied or kept with its reason and line in import_rejection',
    )
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, options: { json?: boolean }) => {
      systemAccess('patient.write');
      const database = await openDatabase({ log: (message) => console.error(message) });
      const audit = new AuditWriter(database.db);
      const bar = progressBar('rows');
      try {
        const report = await importSynthea(database.db, {
          dir,
          audit,
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        console.log(options.json ? JSON.stringify(report, null, 2) : formatSyntheaReport(report));
      } finally {
        bar.stop();
        await audit.close();
        await database.close();
      }
    });
}

export function formatSyntheaReport(report: SyntheaImportReport): string {
  const lines = [`Synthea import run ${report.runId} from ${report.source}`];
  const width = Math.max(0, ...Object.keys(report.files).map((name) => name.length));
  for (const [name, count] of Object.entries(report.files)) {
    lines.push(
      `  ${name.padEnd(width)}  ${count.read} rows: ${count.applied} applied, ` +
        `${count.rejected} rejected`,
    );
  }
  if (report.missing.length > 0) lines.push(`  not present: ${report.missing.join(', ')}`);
  if (report.rejectionsResolved > 0) {
    lines.push(`  ${report.rejectionsResolved} rows rejected by earlier runs are now applied`);
  }
  lines.push(...table('rejected rows by reason', report.rejectedByReason));
  lines.push(...table('notes', report.notes));
  if (Object.keys(report.rejectedByReason).length > 0) {
    lines.push(
      `  rejected rows are kept in import_rejection with their line (run ${report.runId}` +
        (report.rejectionsAlreadyKept > 0
          ? `; ${report.rejectionsAlreadyKept} already kept by an earlier run)`
          : ')'),
    );
  }
  return lines.join('\n');
}

/** `medaxis export fhir <dir>`. */
export function registerExport(program: Command): void {
  const exportCommand = program.command('export').description('export data for other systems');
  exportCommand
    .command('fhir <dir>')
    .description(
      'write FHIR R4 NDJSON, one file per resource type (Organization, Practitioner, ' +
        'PractitionerRole, Location, Patient, Encounter), that `import fhir` reads back',
    )
    .action(async (dir: string) => {
      const access = systemAccess('patient.export');
      const database = await openDatabase({ log: (message) => console.error(message) });
      const audit = new AuditWriter(database.db);
      try {
        const report = await exportFhir(database.db, { dir, access, audit });
        console.log(`FHIR export to ${report.dir}`);
        for (const [type, count] of Object.entries(report.resources)) {
          console.log(`  ${`${type}.ndjson`.padEnd(24)} ${count}`);
        }
      } finally {
        await audit.close();
        await database.close();
      }
    });
}

function table(title: string, counts: Record<string, number>): string[] {
  const entries = Object.entries(counts);
  if (entries.length === 0) return [];
  const width = Math.max(...entries.map(([key]) => key.length));
  return [`  ${title}:`, ...entries.map(([key, count]) => `    ${key.padEnd(width)}  ${count}`)];
}

export function formatFhirReport(report: FhirImportReport): string {
  const { entries } = report;
  const lines = [
    `FHIR import run ${report.runId}: ${report.files} file(s), ${entries.read} entries: ` +
      `${entries.applied} applied, ${entries.rejected} rejected, ${report.commands} commands`,
  ];
  const width = Math.max(0, ...Object.keys(report.byType).map((type) => type.length));
  for (const [type, count] of Object.entries(report.byType)) {
    lines.push(
      `  ${type.padEnd(width)}  ${count.read} read, ${count.applied} applied, ` +
        `${count.rejected} rejected`,
    );
  }
  if (report.rejectionsResolved > 0) {
    lines.push(`  ${report.rejectionsResolved} entries rejected by earlier runs are now applied`);
  }
  lines.push(...table('rejected by reason', report.rejectedByReason));
  lines.push(...table('notes', report.notes));
  if (entries.rejected > 0) {
    lines.push(
      `  rejected entries are kept in import_rejection (run ${report.runId}` +
        (report.rejectionsAlreadyKept > 0
          ? `; ${report.rejectionsAlreadyKept} already kept by an earlier run)`
          : ')'),
    );
  }
  return lines.join('\n');
}
