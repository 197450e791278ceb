/**
 * The product as the HL7 bench runs it, in its own process: `buildServer` (event hub, board
 * stream) and the MLLP listener as apps/server/src/main.ts starts them, on one pool, with the
 * audit writer of packages/audit (the feed audits each applied message before its ACK).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

import { auditWriterFor } from '@medaxis/audit';
import { createDb } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { loadPolicyConfig } from '@medaxis/policy';
import { buildServer, createLogger, startMllpListener } from '@medaxis/server';

const [databaseUrl, ...flags] = process.argv.slice(2);
if (!databaseUrl || !process.send) throw new Error('run by bench/hl7-throughput.ts');

const log = createLogger('warn', process.stderr);
// As the server runs it, or as DATABASE_PREPARED_STATEMENTS=off does (--plain-statements).
const db = createDb(databaseUrl, {
  max: 20,
  preparedStatements: !flags.includes('--plain-statements'),
});
// Round trips on the pool (one per query call, a multi-statement text counting one): the
// figure the HL7 pipeline's cost follows on this machine, and one the machine's load does not
// change. The hub's LISTEN connection is not in the pool.
let roundTrips = 0;
db.on('connect', (client) => {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  Object.assign(client, {
    query: (...args: unknown[]) => {
      roundTrips++;
      return query(...args);
    },
  });
});
const { roles, policies } = loadPolicyConfig(join(repoRoot, 'config'));
// One audit writer for the board stream and the feed, as apps/server main.ts has it (one
// chain head, one flush at a time; two writers would queue on each other's head lock).
const audit = auditWriterFor(db);
const { app, boardStream } = await buildServer({ db, audit, roles, policies, databaseUrl, log });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string') throw new Error('server has no port');

const mllp = await startMllpListener({
  db,
  port: 0,
  host: '127.0.0.1',
  log: log.child({ part: 'mllp' }),
  recoveryIntervalMs: 0,
  processor: { audit },
});

// A CPU profile of the measured phases only (not start-up), when the driver asks for one.
const inspector = new Session();
const profile = async (message: { type: string; file?: string }) => {
  if (message.type === 'profile-start') {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
    process.send!({ type: 'profiling' });
  }
  if (message.type === 'profile-stop' && message.file) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(message.file, JSON.stringify(profile));
    inspector.disconnect();
    process.send!({ type: 'profiled', file: message.file });
  }
};

process.on('message', (message: { type: string; file?: string }) => {
  profile(message).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({
      type: 'cpu',
      micros: user + system,
      roundTrips,
      sockets: boardStream.socketCount,
    });
  }
  if (message.type === 'stop') {
    void (async () => {
      await mllp.close();
      await audit.close();
      await app.close();
      await db.end();
      process.exit(0);
    })();
  }
});
process.on('disconnect', () => process.exit(1));
process.send({ type: 'listening', mllpPort: mllp.port, httpPort: address.port });
