import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import type { Db } from '@medaxis/db';

import { stretchRows, type Stretch, type StretchResult } from './verify-stretch.ts';

/** How a worker reaches the database: the part of the pool's settings a thread can receive. */
export interface WorkerConnection {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  password?: string;
  /** Start-up options, e.g. `-c role=medaxis_app` (createDb's role). */
  options?: string;
  ssl?: boolean | { [key: string]: unknown };
  application_name?: string;
}

export interface WorkerData {
  connection: WorkerConnection;
  /** The snapshot verify exported (pg_export_snapshot), which every worker imports. */
  snapshot: string;
}

export type WorkerRequest = { kind: 'walk'; stretch: Stretch } | { kind: 'close' };
export type WorkerReply =
  | { kind: 'walked'; result: StretchResult }
  | { kind: 'failed'; message: string; stack: string | undefined };

const connectionKeys = [
  'connectionString',
  'host',
  'port',
  'user',
  'database',
  'password',
  'options',
  'ssl',
  'application_name',
] as const;

/**
 * The settings of `db` a worker thread can open its own connections with, or undefined when
 * they cannot cross to a thread (a password callback, a custom client class): verify then
 * walks on its own thread.
 */
export function workerConnection(db: Db): WorkerConnection | undefined {
  const settings = db.options as unknown as Record<string, unknown>;
  if (settings.Client || typeof settings.password === 'function') return undefined;
  const picked = Object.fromEntries(
    connectionKeys.filter((key) => settings[key] !== undefined).map((key) => [key, settings[key]]),
  );
  try {
    return structuredClone(picked);
  } catch {
    return undefined;
  }
}

/**
 * Walks `stretches` on `workers` threads, each with its own connections inside `snapshot`:
 * each thread takes the next stretch as soon as it is done with one, largest first, and the
 * results come back in the stretches' order. Any failure stops every thread and rejects.
 */
export async function walkOnWorkers(
  connection: WorkerConnection,
  snapshot: string,
  stretches: readonly Stretch[],
  workers: number,
): Promise<StretchResult[]> {
  const results: (StretchResult | undefined)[] = stretches.map(() => undefined);
  // Largest first, so a big unsealed tail does not start last and finish alone.
  const queue = stretches
    .map((stretch, index) => ({ stretch, index, rows: stretchRows(stretch) }))
    .sort((a, b) => b.rows - a.rows || a.index - b.index);
  const threads = Array.from(
    { length: Math.min(workers, queue.length) },
    () =>
      new Worker(new URL('./verify-worker.ts', import.meta.url), {
        workerData: { connection, snapshot } satisfies WorkerData,
        // Not the parent's flags: under tsx they load its loader into the thread, which
        // doubles the thread's start (about 220 against 110 ms here) for nothing, since the
        // worker's code is erasable TypeScript that Node strips itself.
        execArgv: [],
      }),
  );

  try {
    await Promise.all(
      threads.map(async (thread) => {
        const failure = once(thread, 'error').then(([error]) => Promise.reject(error as Error));
        const exit = once(thread, 'exit').then(([code]) =>
          Promise.reject(new Error(`verify worker exited early (code ${String(code)})`)),
        );
        // Keep the rejections of the races below from going unhandled once they are over.
        failure.catch(() => {});
        exit.catch(() => {});
        for (let job = queue.shift(); job; job = queue.shift()) {
          const request: WorkerRequest = { kind: 'walk', stretch: job.stretch };
          thread.postMessage(request);
          const [reply] = (await Promise.race([once(thread, 'message'), failure, exit])) as [
            WorkerReply,
          ];
          if (reply.kind === 'failed') {
            throw Object.assign(new Error(`verify worker: ${reply.message}`), {
              stack: reply.stack,
            });
          }
          results[job.index] = revive(reply.result);
        }
        thread.postMessage({ kind: 'close' } satisfies WorkerRequest);
        await Promise.race([once(thread, 'exit'), failure]);
      }),
    );
  } finally {
    // A thread still running after a failure elsewhere: its connections go with it.
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
  return results.map((result) => result!);
}

function revive(result: StretchResult): StretchResult {
  return { ...result, lastHash: Buffer.from(result.lastHash) };
}
