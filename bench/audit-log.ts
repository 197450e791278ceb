/**
 * The audit log's own costs, each next to a floor measured in the same run:
 *
 * - **Append rate**, batched: rows/s through `AuditWriter` (hash chain, head lock, append-only
 *   triggers, indexes; every row committed) against the same rows inserted by the same
 *   multi-row statement into a plain copy of the table (same columns and indexes, no chain,
 *   no triggers). Two ways in: `defer` (a batch source such as an import), and many concurrent
 *   callers that each await their row's COMMIT (requests under load, sharing flushes).
 * - **Verify**: `verifyAuditLog` over the whole log once it holds `--rows` rows (1,000,000 by
 *   default, sealed as the worker seals them), as the CLI runs it (sealed segments on worker
 *   threads, as many as os.availableParallelism()) and on the caller's thread alone, against
 *   a floor that streams the same rows out of PostgreSQL in the binary COPY format and hashes
 *   the bytes (sha256) on one thread, doing nothing else.
 *
 *   npm run bench:audit -- [--rows 1000000] [--callers 256] [--seconds 10]
 *
 * Targets (issue "Security, consent and audit"): at least 30,000 rows/s appended, batched;
 * verify of 1,000,000 rows in at most 5 s. It needs the PostgreSQL the tests use and drops
 * its database at the end.
 */
import { createHash, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

import {
  AuditWriter,
  sealAuditLog,
  verifyAuditLog,
  type AuditEvent,
  type VerifyOptions,
} from '@medaxis/audit';
import { createDb, type Db } from '@medaxis/db';
import { createTestDatabase } from '@medaxis/db/testing';
import { to as copyTo } from 'pg-copy-streams';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    callers: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '10' },
  },
});
const totalRows = Number(flags.rows);
const callers = Number(flags.callers);
const seconds = Number(flags.seconds);
const deferredRows = 200_000;

const patients = Array.from({ length: 5_000 }, () => randomUUID());
const actors = Array.from({ length: 200 }, (_, index) => `user-${index}`);

/** A patient read as the API records it, varied the way a day's traffic varies. */
function readEvent(index: number): AuditEvent {
  const patientId = patients[index % patients.length]!;
  return {
    source: 'api',
    operation: index % 7 === 0 ? 'patients.search' : 'patients.get',
    action: index % 7 === 0 ? 'search' : 'read',
    actor: { kind: 'user', id: actors[index % actors.length]!, roles: ['clinician'] },
    purpose: 'treatment',
    resourceType: 'patient',
    resourceId: patientId,
    patientIds: [patientId],
    outcome: index % 50 === 0 ? 'denied' : 'allowed',
    reason: index % 50 === 0 ? 'consent_restricted' : null,
    requestId: randomUUID(),
    clientAddress: '10.20.30.40',
  };
}

function print(...lines: string[]): void {
  for (const line of lines) console.log(line);
}

/** A Markdown table; missing trailing cells stay empty. */
function table(header: string[], rows: string[][]): void {
  const line = (cells: string[]) =>
    `| ${header.map((_, index) => cells[index] ?? '').join(' | ')} |`;
  print(
    line(header),
    `|---|${header
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  );
  print(...rows.map(line), '');
}

const fmt = (value: number) => value.toLocaleString('en-US');
const load = (averages: number[]) => averages[0]!.toFixed(2);

function rate(rows: number, ms: number): number {
  return Math.round((rows / ms) * 1000);
}

/** Batch source: `defer` everything, then one `flush`. */
async function appendDeferred(db: Db, rows: number, offset: number) {
  const writer = new AuditWriter(db);
  const started = performance.now();
  for (let index = 0; index < rows; index++) writer.defer(readEvent(offset + index));
  await writer.close();
  return { ms: performance.now() - started, flushes: writer.flushes };
}

/** `callers` requests in a closed loop, each awaiting its own row's COMMIT. */
async function appendConcurrent(db: Db, offset: number) {
  const writer = new AuditWriter(db);
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  let next = offset;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        const begun = performance.now();
        await writer.record(readEvent(next++));
        latencies.push(performance.now() - begun);
      }
    }),
  );
  const ms = performance.now() - started;
  await writer.close();
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.ceil((p / 100) * latencies.length) - 1] ?? 0;
  return {
    rows: latencies.length,
    ms,
    flushes: writer.flushes,
    p50: percentile(50),
    p99: percentile(99),
  };
}

/**
 * The floor: the writer's own INSERT … SELECT FROM unnest, same rows, same batch size, into a
 * table with audit_event's columns and indexes but no chain to lock and no triggers.
 */
async function appendFloor(db: Db, rows: number, offset: number) {
  await db.query(`CREATE TABLE bench_audit_floor (LIKE audit_event INCLUDING ALL)`);
  const batch = 5_000;
  const started = performance.now();
  for (let first = 0; first < rows; first += batch) {
    const events = Array.from({ length: Math.min(batch, rows - first) }, (_, index) =>
      readEvent(offset + first + index),
    );
    const ids = events.map((_, index) => String(first + index + 1));
    await db.query(
      `INSERT INTO bench_audit_floor (id, at, source, operation, action, actor_kind, actor_id,
                                      roles, device_id, purpose, resource_type, resource_id,
                                      patient_ids, outcome, reason, request_id, client_address,
                                      hash)
       SELECT id, now(), source, operation, action, 'user', actor_id, '{clinician}', NULL,
              purpose, 'patient', resource_id, ARRAY[resource_id::uuid], outcome, reason,
              request_id, client_address, decode(repeat('00', 32), 'hex')
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           AS r(id, source, operation, action, actor_id, purpose, resource_id, outcome, reason,
                request_id, client_address)`,
      [
        ids,
        events.map((event) => event.source),
        events.map((event) => event.operation),
        events.map((event) => event.action),
        events.map((event) => event.actor.id),
        events.map((event) => event.purpose),
        events.map((event) => event.resourceId),
        events.map((event) => event.outcome),
        events.map((event) => event.reason ?? null),
        events.map((event) => event.requestId),
        events.map((event) => event.clientAddress),
      ],
    );
  }
  const ms = performance.now() - started;
  await db.query(`DROP TABLE bench_audit_floor`);
  return { ms };
}

/** The verify floor: every audit row out of PostgreSQL as binary COPY, sha256 over the bytes. */
async function readFloor(db: Db) {
  const client = await db.connect();
  try {
    const started = performance.now();
    const hash = createHash('sha256');
    let bytes = 0;
    await pipeline(
      client.query(
        copyTo(`COPY (SELECT * FROM audit_event ORDER BY id) TO STDOUT (FORMAT binary)`),
      ),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done();
        },
      }),
    );
    hash.digest();
    return { ms: performance.now() - started, bytes };
  } finally {
    client.release();
  }
}

/**
 * verifyAuditLog with the CPU time it took in this process, its worker threads included
 * (PostgreSQL's is not): on a shared machine, less noisy than the wall time.
 */
async function timedVerify(db: Db, options?: VerifyOptions) {
  const before = process.cpuUsage();
  const report = await verifyAuditLog(db, options);
  const used = process.cpuUsage(before);
  return { ...report, cpuMs: (used.user + used.system) / 1000 };
}

async function run() {
  const loadBefore = loadavg();
  const test = await createTestDatabase('bench_audit');
  // The writer runs as the application's role, as the server does (INSERT and SELECT only).
  const appDb = createDb(test.url, { max: 4, role: 'medaxis_app' });
  try {
    const floor = await appendFloor(test.db, deferredRows, 0);
    const deferred = await appendDeferred(appDb, deferredRows, 0);
    const concurrent = await appendConcurrent(appDb, deferredRows);

    let written = deferredRows + concurrent.rows;
    while (written < totalRows) {
      const rows = Math.min(deferredRows, totalRows - written);
      await appendDeferred(appDb, rows, written);
      written += rows;
    }
    const seals = await sealAuditLog(appDb);

    const read = await readFloor(test.db);
    const oneThread = await timedVerify(appDb, { workers: 0 });
    const verify = await timedVerify(appDb);
    for (const report of [oneThread, verify]) {
      if (!report.ok) {
        throw new Error(`verify found a problem: ${JSON.stringify(report.firstProblem)}`);
      }
    }

    const floorRate = rate(deferredRows, floor.ms);
    const deferredRate = rate(deferredRows, deferred.ms);
    const concurrentRate = rate(concurrent.rows, concurrent.ms);
    const versus = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
    const verifyMet = verify.durationMs <= 5_000 ? 'met' : 'MISSED';

    print(`## Audit log: append rate and verify`, '');
    print(`- date: ${new Date().toISOString()}`);
    print(`- load average (1 min), start → end: ${load(loadBefore)} → ${load(loadavg())}`, '');
    table(
      ['append', 'rows', 'rows/s', 'vs floor', 'flushes', 'p50 ms', 'p99 ms'],
      [
        ['floor: plain multi-row INSERT, batches of 5,000', fmt(deferredRows), fmt(floorRate)],
        [
          'AuditWriter, deferred (batch source)',
          fmt(deferredRows),
          fmt(deferredRate),
          versus(deferredRate, floorRate),
          fmt(deferred.flushes),
        ],
        [
          `AuditWriter, ${callers} callers awaiting COMMIT`,
          fmt(concurrent.rows),
          fmt(concurrentRate),
          versus(concurrentRate, floorRate),
          fmt(concurrent.flushes),
          concurrent.p50.toFixed(1),
          concurrent.p99.toFixed(1),
        ],
      ],
    );
    const appendMet = deferredRate >= 30_000 ? 'met' : 'MISSED';
    print(`- append target ≥ 30,000 rows/s batched: ${appendMet} (${fmt(deferredRate)})`, '');
    table(
      ['verify', 'rows', 'seals', 'ms', 'vs floor', 'CPU ms (this process)'],
      [
        [
          `floor: binary COPY out + sha256 of ${(read.bytes / 2 ** 20).toFixed(0)} MiB`,
          fmt(verify.liveRows),
          '',
          read.ms.toFixed(0),
        ],
        [
          "verifyAuditLog on the caller's thread (workers: 0)",
          fmt(oneThread.rows),
          String(seals.length),
          oneThread.durationMs.toFixed(0),
          versus(oneThread.durationMs, read.ms),
          oneThread.cpuMs.toFixed(0),
        ],
        [
          `verifyAuditLog, ${verify.workers} worker threads (the default)`,
          fmt(verify.rows),
          String(seals.length),
          verify.durationMs.toFixed(0),
          versus(verify.durationMs, read.ms),
          verify.cpuMs.toFixed(0),
        ],
      ],
    );
    print(
      `- verify target ≤ 5 s for 1,000,000 rows: ` +
        (verify.rows >= 1_000_000 ? verifyMet : 'not measured (fewer rows)') +
        ` (${(verify.durationMs / 1000).toFixed(2)} s)`,
    );
  } finally {
    await appDb.end();
    await test.drop();
  }
}

await run();
