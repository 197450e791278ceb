import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { auditWriterFor, createMirror } from '@medaxis/audit';
import { createDb } from '@medaxis/db';
import { ConfigError, loadPolicyConfig } from '@medaxis/policy';

import { readEnv } from './env.ts';
import { createLogger } from './logger.ts';
import { startMllpListener } from './mllp-listener.ts';
import { buildServer } from './server.ts';

const env = readEnv();
const log = createLogger(env.LOG_LEVEL);
const configDir =
  env.MEDAXIS_CONFIG_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../../config');
const { roles, policies } = loadPolicyFiles(configDir);
const db = createDb(env.DATABASE_URL, {
  max: 20,
  role: env.DATABASE_ROLE || undefined,
  preparedStatements: env.DATABASE_PREPARED_STATEMENTS === 'on',
});
const audit = auditWriterFor(db, {
  mirror: env.AUDIT_MIRROR ? createMirror(env.AUDIT_MIRROR) : undefined,
});
const webBuildDir =
  env.WEB_BUILD_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '../../web/build');

const { app } = await buildServer({
  db,
  audit,
  roles,
  policies,
  databaseUrl: env.DATABASE_URL,
  log,
  webBuildDir,
  trustProxy: env.TRUST_PROXY,
  auth: { secureCookies: env.COOKIE_SECURE },
});
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
        processor: { audit },
      });
if (mllp) log.info({ port: mllp.port, host: env.MLLP_HOST ?? env.HOST }, 'mllp listening');

const shutdown = async (signal: string) => {
  log.info({ signal }, 'server stopping');
  await mllp?.close();
  await app.close();
  await audit.close();
  await db.end();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

/**
 * roles.json and consent_policies.json, checked. A file that cannot be used stops the server
 * before it listens, with one plain line naming the file and the key at fault: no stack trace
 * to read through, and nothing served under a policy nobody wrote.
 */
function loadPolicyFiles(dir: string) {
  try {
    return loadPolicyConfig(dir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`medaxis server: cannot start: ${error.message}\n`);
    process.exit(1);
  }
}
