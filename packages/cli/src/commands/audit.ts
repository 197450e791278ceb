import { InvalidArgumentError, type Command } from 'commander';

import { verifyAuditLog, type VerifyReport } from '@medaxis/audit';

import { openDatabase } from '../context.ts';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log of access to patient data');
  audit
    .command('verify')
    .description(
      'check the whole audit chain and every seal; names the first broken link and exits ' +
        'non-zero on any tampering',
    )
    .option('--json', 'print the report as JSON')
    .option(
      '--workers <n>',
      'worker threads for the sealed segments (default: one per CPU; 0: this thread only)',
      parseWorkers,
    )
    .action(async (options: { json?: boolean; workers?: number }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const report = await verifyAuditLog(database.db, { workers: options.workers });
        console.log(options.json ? JSON.stringify(report, null, 2) : describe(report));
        if (!report.ok) process.exitCode = 1;
      } finally {
        await database.close();
      }
    });
}

function parseWorkers(value: string): number {
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 0) {
    throw new InvalidArgumentError('a whole number of threads, 0 or more');
  }
  return workers;
}

function describe(report: VerifyReport): string {
  const counts =
    `${report.rows} rows (${report.liveRows} live, ${report.compactedRows} in summaries, ` +
    `${report.prunedRows} removed by retention), ${report.seals} seal entries, ` +
    `head ${report.headId}, ${(report.durationMs / 1000).toFixed(1)} s` +
    (report.workers > 0 ? ` on ${report.workers} worker threads` : '');
  if (report.ok) return `audit log intact: ${counts}`;
  const first = report.firstProblem!;
  const where = first.id ? `row ${first.id}` : `seal entry ${first.seal}`;
  const lines = [
    `audit log BROKEN: first broken link at ${where}: ${first.message} (${first.code})`,
    `${report.problemCount} problem(s); ${counts}`,
    ...report.problems.slice(1, 10).map((problem) => `  also: ${problem.message}`),
  ];
  return lines.join('\n');
}
