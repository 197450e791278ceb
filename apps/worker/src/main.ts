import { createDb } from '@medaxis/db';
import { PgBoss } from 'pg-boss';

import { readEnv } from './env.ts';
import { readHospitalTimeZone } from './hospital.ts';
import { createLogger } from './logger.ts';
import { registerJobs } from './worker.ts';

const env = readEnv();
const log = createLogger(env.LOG_LEVEL);
const timeZone = readHospitalTimeZone(env.HOSPITAL_CONFIG);
const db = createDb(env.DATABASE_URL, { max: 4 });
const boss = new PgBoss({ connectionString: env.DATABASE_URL });
// pg-boss reports failures of its background loops here instead of throwing.
boss.on('error', (error) => log.error({ err: error }, 'pg-boss error'));

await boss.start();
await registerJobs({ boss, db, log, timeZone });
log.info({ timeZone }, 'worker started');

let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  // Lets a running job finish (up to the timeout) before the connections close.
  await boss.stop({ graceful: true, timeout: 10_000 });
  await db.end();
  log.info('worker stopped');
  process.exit(0);
};
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
