import type { Command } from 'commander';

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
    .action(async (options: { json?: boolean }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const report = await verifyAuditLog(database.db);
        console.log(options.json ? JSON.stringify(report, null, 2) : describe(report));
        if (!report.ok) process.exitCode = 1;
      } finally {
        await database.close();
      }
    });
}

function describe(report: VerifyReport): string {
  const counts =
    `${report.rows} rows (${report.liveRows} live, ${report.compactedRows} in summaries, ` +
    `${report.prunedRows} removed by retention), ${report.seals} seal entries, ` +
    `head ${report.headId}, ${(report.durationMs / 1000).toFixed(1)} s`;
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
