import { createMirror, loadAuditConfig } from '@medaxis/audit';
import { createDb } from '@medaxis/db';
import { PgBoss } from 'pg-boss';

import { readEnv } from './env.ts';
import { readHospitalTimeZone } from './hospital.ts';
import { createLogger } from './logger.ts';
import { registerAuditJobs } from './audit-jobs.ts';
import { registerJobs } from './worker.ts';

const env = readEnv();
const log = createLogger(env.LOG_LEVEL);
const timeZone = readHospitalTimeZone(env.HOSPITAL_CONFIG);
const preparedStatements = env.DATABASE_PREPARED_STATEMENTS === 'on';
const db = createDb(env.DATABASE_URL, { max: 4, role: env.DATABASE_ROLE, preparedStatements });
// Audit compaction and retention delete rows, which the application role may not.
const maintenanceDb = createDb(env.DATABASE_URL, { max: 1, preparedStatements });
const auditConfig = loadAuditConfig(env.AUDIT_CONFIG);
const auditMirror = env.AUDIT_MIRROR ? createMirror(env.AUDIT_MIRROR) : undefined;
const boss = new PgBoss({ connectionString: env.DATABASE_URL });
// pg-boss reports failures of its background loops here instead of throwing.
boss.on('error', (error) => log.error({ err: error }, 'pg-boss error'));

await boss.start();
await registerJobs({ boss, db, log, timeZone });
await registerAuditJobs({
  boss,
  db,
  maintenanceDb,
  log,
  timeZone,
  config: auditConfig,
  mirror: auditMirror,
});
log.info({ timeZone }, 'worker started');

let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  // Lets a running job finish (up to the timeout) before the connections close.
  await boss.stop({ graceful: true, timeout: 10_000 });
  await db.end();
  await maintenanceDb.end();
  await auditMirror?.close();
  log.info('worker stopped');
  process.exit(0);
};
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
