import {
  applyRetention,
  compactAuditLog,
  sealAuditLog,
  type AuditConfig,
  type AuditMirror,
} from '@medaxis/audit';
import type { Db } from '@medaxis/db';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';

export const auditJobs = {
  /** Seals the rows appended since the last seal: a segment is about an hour of the log. */
  seal: { name: 'audit-seal', cron: '7 * * * *' },
  /** Compacts repeated reads of sealed segments, at night. */
  compact: { name: 'audit-compact', cron: '23 2 * * *' },
  /** Removes sealed segments past the retention period, at night. */
  retention: { name: 'audit-retention', cron: '41 2 * * *' },
} as const;

/**
 * The audit log's maintenance jobs. Sealing needs nothing the application role lacks; compaction
 * and retention delete rows, which only the maintenance path may (the migration's triggers),
 * so they run on `maintenanceDb`, a connection with the owner's rights. Each job takes an
 * advisory lock, so two workers never interleave, and pg-boss retries a failed run.
 */
export async function registerAuditJobs(options: {
  boss: PgBoss;
  db: Db;
  maintenanceDb: Db;
  log: Logger;
  timeZone: string;
  config: AuditConfig;
  mirror?: AuditMirror | undefined;
}): Promise<void> {
  const { boss, db, maintenanceDb, log, timeZone, config, mirror } = options;

  await boss.createQueue(auditJobs.seal.name);
  await boss.work(auditJobs.seal.name, async (jobs) => {
    for (const job of jobs) {
      const seals = await sealAuditLog(db, { maxRows: config.segmentMaxRows, mirror });
      const last = seals.at(-1);
      log.info({ jobId: job.id, segments: seals.length, lastId: last?.lastId }, 'audit sealed');
    }
  });

  await boss.createQueue(auditJobs.compact.name);
  await boss.work(auditJobs.compact.name, async (jobs) => {
    for (const job of jobs) {
      // Seal first, so yesterday's last rows are eligible as soon as they are old enough.
      await sealAuditLog(db, { maxRows: config.segmentMaxRows, mirror });
      const result = await compactAuditLog(maintenanceDb, {
        afterMs: config.compaction.afterHours * 3_600_000,
        minRun: config.compaction.minRun,
      });
      log.info({ jobId: job.id, ...result }, 'audit compacted');
    }
  });

  await boss.createQueue(auditJobs.retention.name);
  await boss.work(auditJobs.retention.name, async (jobs) => {
    for (const job of jobs) {
      const result = await applyRetention(maintenanceDb, { years: config.retentionYears });
      log.info({ jobId: job.id, ...result }, 'audit retention applied');
    }
  });

  for (const job of Object.values(auditJobs)) {
    await boss.schedule(job.name, job.cron, null, { tz: timeZone });
    log.info({ job: job.name, cron: job.cron, timeZone }, 'job scheduled');
  }
}
