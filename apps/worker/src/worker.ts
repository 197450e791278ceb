import type { Db } from '@medaxis/db';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';

import {
  censusSlot,
  censusSnapshotCron,
  censusSnapshotJob,
  takeCensusSnapshot,
} from './census-snapshot.ts';

/**
 * Registers the worker's queues, handlers and schedules on a started pg-boss. pg-boss sends a
 * scheduled job once per occurrence however many workers run, and any of them may take it.
 */
export async function registerJobs(options: {
  boss: PgBoss;
  db: Db;
  log: Logger;
  timeZone: string;
}): Promise<void> {
  const { boss, db, log, timeZone } = options;

  await boss.createQueue(censusSnapshotJob);
  await boss.work(censusSnapshotJob, { includeMetadata: true }, async (jobs) => {
    for (const job of jobs) {
      const takenAt = censusSlot(job.createdOn);
      const departments = await takeCensusSnapshot(db, takenAt);
      log.info({ jobId: job.id, takenAt, departments }, 'census snapshot taken');
    }
  });
  await boss.schedule(censusSnapshotJob, censusSnapshotCron, null, { tz: timeZone });
  log.info({ job: censusSnapshotJob, cron: censusSnapshotCron, timeZone }, 'job scheduled');
}
