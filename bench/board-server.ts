/**
 * The product server as the bench runs it: `buildServer` exactly as `apps/server` does, in its
 * own process, plus the driver's IPC channel (memory, CPU, subscribed boards, profiles), which
 * lives here and not in the product.
 */
import { join } from 'node:path';

import { createDb } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { loadRoles } from '@medaxis/policy';
import { buildServer, createLogger } from '@medaxis/server';

import { sendToDriver, serveDriver } from './child-ipc.ts';

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error('usage: board-server.ts <database url>');

const log = createLogger('warn', process.stderr);
const db = createDb(databaseUrl, { max: 20 });
const roles = loadRoles(join(repoRoot, 'config/roles.json'));
const { app, hub } = await buildServer({ db, roles, databaseUrl, log });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string') throw new Error('server has no port');

serveDriver(
  () => hub.subscriberCount,
  async () => {
    await app.close();
    await db.end();
  },
);
sendToDriver({ type: 'listening', port: address.port });
