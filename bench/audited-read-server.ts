/**
 * The two servers bench/audited-read.ts compares, in one process of their own: `buildServer`
 * as apps/server runs it, once with the audit trail (the process's AuditWriter: every
 * patient read's row committed before the reply) and once with an audit sink that records
 * nothing. Only one of them is under load at a time.
 */
import { join } from 'node:path';

import { createDb } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { loadPolicyConfig } from '@medaxis/policy';
import { buildServer, createLogger } from '@medaxis/server';

const databaseUrl = process.argv[2] ?? '';
if (!databaseUrl || !process.send) throw new Error('run by bench/audited-read.ts');

const log = createLogger('warn', process.stderr);
// As apps/server connects: the application's role, which may only append audit rows.
const db = createDb(databaseUrl, { max: 20, role: 'medaxis_app' });
const { roles, policies } = loadPolicyConfig(join(repoRoot, 'config'));

async function listen(audited: boolean): Promise<number> {
  const { app } = await buildServer({
    db,
    roles,
    policies,
    databaseUrl,
    log,
    ...(audited ? {} : { audit: { record: () => Promise.resolve() } }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return address.port;
}

const audited = await listen(true);
const unaudited = await listen(false);
process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ type: 'cpu', micros: user + system });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'listening', audited, unaudited });
