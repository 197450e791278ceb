/**
 * A verify worker thread (verify-pool.ts starts it): walks the stretches of the chain it is
 * sent, one at a time, on its own connections, inside the snapshot verify exported, and
 * answers each with what it found. It starts without a loader (tsx's included), so it and
 * everything it imports must be TypeScript that Node can strip itself: no parameter
 * properties, enums or namespaces, `import type` for types. The parallel tests load it so,
 * from vitest and from a process run under tsx.
 */
import { parentPort, workerData } from 'node:worker_threads';

import pg from 'pg';

import { walkStretch, type Stretch } from './verify-stretch.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './verify-pool.ts';

const port = parentPort!;
const { connection, snapshot } = workerData as WorkerData;
const pool = new pg.Pool({ ...connection, max: 2 });
pool.on('error', () => {});

let client: Promise<pg.PoolClient> | undefined;
let side: Promise<pg.PoolClient> | undefined;

/** A connection whose transaction sees exactly what verify's does. */
async function openInSnapshot(): Promise<pg.PoolClient> {
  const opened = await pool.connect();
  opened.on('error', () => {});
  await opened.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await opened.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
  return opened;
}

async function walk(stretch: Stretch): Promise<WorkerReply> {
  client ??= openInSnapshot();
  // Summaries are read while the rows stream: only a compacted segment needs a second one.
  const needsSide = stretch.segments.some((segment) => segment.compacted && !segment.pruned);
  if (needsSide) side ??= openInSnapshot();
  const copy = await client;
  const result = await walkStretch(copy, needsSide ? await side! : copy, stretch);
  return { kind: 'walked', result };
}

async function close(): Promise<void> {
  for (const opened of [client, side]) {
    if (!opened) continue;
    const connection = await opened;
    await connection.query('COMMIT');
    connection.release();
  }
  await pool.end();
  port.close();
}

port.on('message', (request: WorkerRequest) => {
  const work =
    request.kind === 'walk' ? walk(revive(request.stretch)) : close().then(() => undefined);
  work.then(
    (reply) => {
      if (reply) port.postMessage(reply);
    },
    (error: unknown) => {
      const { message, stack } = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ kind: 'failed', message, stack } satisfies WorkerReply);
    },
  );
});

/** Buffers cross threads as plain Uint8Arrays. */
function revive(stretch: Stretch): Stretch {
  return {
    ...stretch,
    previous: Buffer.from(stretch.previous),
    segments: stretch.segments.map((segment) => ({
      ...segment,
      root: segment.root && Buffer.from(segment.root),
      lastHash: segment.lastHash && Buffer.from(segment.lastHash),
    })),
  };
}
