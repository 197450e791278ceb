/**
 * The product server as the bench runs it: `buildServer` exactly as `apps/server` does, in its
 * own process, plus the driver's IPC channel (memory, CPU, subscribed boards, profiles), which
 * lives here and not in the product. `stream` counts the board stream's sockets, `trpc` the
 * hub's subscribers (one per `board.events` subscription).
 */
import { join } from 'node:path';

import { createDb } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { loadPolicyConfig } from '@medaxis/policy';
import { buildServer, createLogger } from '@medaxis/server';

import { sendToDriver, serveDriver } from './child-ipc.ts';

const [databaseUrl, mode] = process.argv.slice(2);
if (!databaseUrl || (mode !== 'stream' && mode !== 'trpc')) {
  throw new Error('usage: board-server.ts <database url> stream|trpc');
}

const log = createLogger('warn', process.stderr);
const db = createDb(databaseUrl, { max: 20 });
const { roles, policies } = loadPolicyConfig(join(repoRoot, 'config'));
const { app, hub, boardStream } = await buildServer({ db, roles, policies, databaseUrl, log });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string') throw new Error('server has no port');

serveDriver(
  () => (mode === 'stream' ? boardStream.socketCount : hub.subscriberCount),
  async () => {
    await app.close();
    await db.end();
  },
);
sendToDriver({ type: 'listening', port: address.port });
