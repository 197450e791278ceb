import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDb } from '@medaxis/db';
import { loadRoles } from '@medaxis/policy';

import { readEnv } from './env.ts';
import { createLogger } from './logger.ts';
import { startMllpListener } from './mllp-listener.ts';
import { buildServer } from './server.ts';

const env = readEnv();
const log = createLogger(env.LOG_LEVEL);
const configDir =
  env.MEDAXIS_CONFIG_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../../config');
// An invalid roles file stops the server here, naming the file and the key.
const roles = loadRoles(join(configDir, 'roles.json'));
const db = createDb(env.DATABASE_URL, { max: 20 });
const webBuildDir =
  env.WEB_BUILD_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../web/build');

const { app } = await buildServer({ db, roles, databaseUrl: env.DATABASE_URL, log, webBuildDir });
await app.listen({ port: env.PORT, host: env.HOST });
log.info({ port: env.PORT, host: env.HOST }, 'server listening');

const mllp =
  env.MLLP_PORT === 0
    ? undefined
    : await startMllpListener({
        db,
        port: env.MLLP_PORT,
        host: env.MLLP_HOST ?? env.HOST,
        log: log.child({ part: 'mllp' }),
      });
if (mllp) log.info({ port: mllp.port, host: env.MLLP_HOST ?? env.HOST }, 'mllp listening');

const shutdown = async (signal: string) => {
  log.info({ signal }, 'server stopping');
  await mllp?.close();
  await app.close();
  await db.end();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
