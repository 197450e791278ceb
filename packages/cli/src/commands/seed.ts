import { InvalidArgumentError, type Command } from 'commander';

import type { Db } from '@medaxis/db';

import { openDatabase } from '../context.ts';
import { loadHospitalConfig, type HospitalConfig } from '../hospital-config.ts';
import { hasBeds, seedDemoHospital, type SeedOptions, type SeedReport } from '../seed/index.ts';

const say = (message: string) => process.stdout.write(`medaxis: ${message}\n`);

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description(
      'build the demo hospital of config/hospital.json, with days of history, in a database ' +
        'that has no beds yet (npm start does this on first run)',
    )
    .option('--days <n>', 'days of history before now', parseDays, 3)
    .action(async (options: { days: number }) => {
      const database = await openDatabase({ log: say });
      try {
        const report = await ensureDemoHospital(database.db, loadHospitalConfig(), say, {
          historyDays: options.days,
        });
        if (!report) say('the database already has beds: nothing to seed');
      } finally {
        await database.close();
      }
    });
}

/** Seeds the demo hospital unless the database has beds; undefined when it had. */
export async function ensureDemoHospital(
  db: Db,
  config: HospitalConfig,
  log: (message: string) => void,
  options: Omit<SeedOptions, 'config'> = {},
): Promise<SeedReport | undefined> {
  if (await hasBeds(db)) return undefined;
  log(`seeding the demo hospital (${config.site.name})…`);
  const report = await seedDemoHospital(db, { ...options, config });
  log(describeSeed(report));
  if (report.refused.length > 0) {
    const reasons = [...new Set(report.refused.map((r) => `${r.command}: ${r.reason}`))];
    log(
      `warning: the domain refused ${report.refused.length} seed commands (${reasons.join(', ')})`,
    );
  }
  return report;
}

export function describeSeed(report: SeedReport): string {
  const count = (status: string) => report.statuses[status] ?? 0;
  const percent = Math.round((100 * count('occupied')) / Math.max(1, report.beds));
  return (
    `${report.beds} beds: ${count('occupied')} occupied (${percent} %), ${count('free')} free, ` +
    `${count('housekeeping')} housekeeping, ${count('cleaning')} cleaning, ` +
    `${count('blocked')} blocked, ${count('reserved')} reserved; ${report.isolated} isolated, ` +
    `${report.boarding} boarding in the ED; ${report.applied} commands in ` +
    `${(report.timings.totalMs / 1000).toFixed(1)} s`
  );
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isFinite(days) || days < 0 || days > 60) {
    throw new InvalidArgumentError('days of history: a number from 0 to 60');
  }
  return days;
}
