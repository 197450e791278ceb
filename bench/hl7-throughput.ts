/**
 * HL7 v2 over MLLP, sustained: messages per second applied, audited and streamed to boards,
 * and ACK latency, for the product against a floor measured in the same run (a bare MLLP
 * server that answers AA at once, bench/hl7-floor.ts). See docs/benchmarks.md.
 *
 *   npm run bench:hl7 [-- --connections 16 --window 4 --seconds 20 --rate 1000 --boards 10
 *                         --backlog 64 --profile /tmp/hl7-server.cpuprofile]
 *
 * Two phases per server: closed loop (every connection keeps `window` messages in flight: the
 * most it sustains) and open loop at `rate` messages/s (the ACK latency at the target). A
 * server that cannot keep up with the open loop is not waited on forever: each connection
 * holds at most `backlog` unanswered messages, further sends are skipped and counted, and the
 * phase reports what was acknowledged within it and the backlog left at its end.
 * `--profile file` writes a CPU profile of the product server over both phases (it slows the
 * server, so not for figures). `--plain-statements` runs the server as
 * DATABASE_PREPARED_STATEMENTS=off does (behind a transaction-mode pooler).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  ensureBed,
  ensureDepartment,
  ensureRoom,
  ensureSite,
  lastEventId,
  type Db,
} from '@medaxis/db';
import { issueDeviceToken } from '@medaxis/auth';
import { createTestDatabase, repoRoot } from '@medaxis/db/testing';
import { MllpClient, readAck } from '@medaxis/interop';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '16' },
    window: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    boards: { type: 'string', default: '10' },
    slots: { type: 'string', default: '8' },
    backlog: { type: 'string', default: '64' },
    profile: { type: 'string' },
    'plain-statements': { type: 'boolean', default: false },
  },
});
const connections = Number(args.connections);
const windowSize = Number(args.window);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const rate = Number(args.rate);
const boardCount = Number(args.boards);
const slots = Number(args.slots);
const backlog = Number(args.backlog);

// ---- the feed: per connection, visits in `slots` bed pairs, each A01 → A02 → A08 → A03 -------

const events = ['A01', 'A02', 'A08', 'A03'] as const;

/** One connection's endless, valid ADT stream over its own beds. */
class Feed {
  private sequence = 0;
  /** Messages built so far that move a patient (A01, A02, A03): one board event each. */
  moves = 0;
  private readonly steps = Array.from({ length: slots }, () => 0);
  private readonly visits = Array.from({ length: slots }, () => 0);

  constructor(
    private readonly lane: number,
    private readonly start: number,
  ) {}

  next(): Buffer {
    const n = this.sequence++;
    const slot = n % slots;
    const event = events[this.steps[slot]! % events.length]!;
    if (event === 'A01') this.visits[slot]! += 1;
    if (event !== 'A08') this.moves++;
    this.steps[slot]! += 1;
    const visit = `L${this.lane}S${slot}V${this.visits[slot]}`;
    // Strictly increasing event times per connection, all in the past.
    const at = new Date(this.start + n * 10);
    const time = `${at.toISOString().replace(/[-:T]/g, '').replace('Z', '')}+0000`;
    const bed = event === 'A01' ? 'A' : 'B';
    return Buffer.from(
      [
        `MSH|^~\\&|PAS|BENCH|MEDAXIS|NGH|${time}||ADT^${event}^ADT_A01|${visit}-${n}|P|2.5`,
        `EVN|${event}|${time}`,
        `PID|1||M-${visit}^^^BENCH^MR||Bench^Patient||19700101|F`,
        `PV1|1|I|BENCH^L${this.lane}S${slot}^${bed}||||||||||||||||${visit}`,
      ].join('\r'),
    );
  }
}

async function seedBeds(db: Db, since: Date) {
  const site = await ensureSite(db, { code: 'BENCH', name: 'Bench', timeZone: 'UTC' });
  const department = await ensureDepartment(db, site, {
    code: 'BENCH',
    name: 'Bench',
    kind: 'ward',
  });
  for (let lane = 0; lane < connections; lane++) {
    for (let slot = 0; slot < slots; slot++) {
      const room = await ensureRoom(db, department, `L${lane}S${slot}`);
      for (const bed of ['A', 'B']) {
        await ensureBed(db, { roomId: room, code: `BENCH-L${lane}S${slot}-${bed}`, since });
      }
    }
  }
}

// ---- measuring -------------------------------------------------------------------------------

interface PhaseResult {
  /** Every message sent in the phase, warm-up and drain included (for CPU per message). */
  sent: number;
  /** Messages whose ACK was measured (sent within the phase, answered at any time). */
  messages: number;
  /** ACKs received within the phase per second of the phase. */
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  notAa: number;
  /** Sends that failed (connection lost, no answer in time): the run fails then. */
  failed: number;
  /** Open loop only: sends skipped because the connection's backlog was full. */
  skipped: number;
  /** Open loop only: messages sent but not yet answered when the phase ended. */
  backlogAtEnd: number;
}

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(
  latencies: number[],
  counts: Pick<PhaseResult, 'sent' | 'notAa' | 'failed' | 'skipped' | 'backlogAtEnd'> & {
    ackedInPhase: number;
    durationMs: number;
  },
): PhaseResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    sent: counts.sent,
    messages: latencies.length,
    perSecond: (counts.ackedInPhase * 1000) / counts.durationMs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    notAa: counts.notAa,
    failed: counts.failed,
    skipped: counts.skipped,
    backlogAtEnd: counts.backlogAtEnd,
  };
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Every connection keeps `windowSize` messages in flight; counts what is sent after warm-up. */
async function closedLoop(clients: MllpClient[], feeds: Feed[]): Promise<PhaseResult> {
  const start = nowMs();
  const measureFrom = start + warmup * 1000;
  const until = measureFrom + seconds * 1000;
  const latencies: number[] = [];
  let notAa = 0;
  let failed = 0;
  let sent = 0;
  await Promise.all(
    clients.map(async (client, lane) => {
      const inflight = new Set<Promise<void>>();
      while (nowMs() < until && failed === 0) {
        while (inflight.size < windowSize) {
          const sentAt = nowMs();
          sent++;
          const done = client.send(feeds[lane]!.next()).then(
            (ack) => {
              if (sentAt < measureFrom || sentAt >= until) return;
              latencies.push(nowMs() - sentAt);
              if (readAck(ack).code !== 'AA') notAa++;
            },
            () => void failed++,
          );
          inflight.add(done);
          void done.finally(() => inflight.delete(done));
        }
        await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  // Sent and answered within the measured window: the closed loop's own backlog is tiny.
  return summarize(latencies, {
    sent,
    notAa,
    failed,
    skipped: 0,
    backlogAtEnd: 0,
    ackedInPhase: latencies.length,
    durationMs: seconds * 1000,
  });
}

/**
 * `rate` messages per second, spread over the connections in turn, for `seconds`. A connection
 * already holding `backlog` unanswered messages skips its turn (counted): an interface engine
 * also stops sending when its peer stops answering, and an unbounded queue would only measure
 * how long the queue is. Throughput is what was acknowledged within the phase; the backlog
 * left is drained afterwards (its latencies count) so the checks see every message.
 */
async function openLoop(clients: MllpClient[], feeds: Feed[]): Promise<PhaseResult> {
  const start = nowMs();
  const end = start + seconds * 1000;
  const total = rate * seconds;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const inflight = clients.map(() => 0);
  let notAa = 0;
  let failed = 0;
  let skipped = 0;
  let ackedInPhase = 0;
  let offered = 0;
  let sent = 0;
  while (offered < total && failed === 0) {
    const due = Math.min(total, Math.floor(((nowMs() - start) * rate) / 1000));
    for (; offered < due; offered++) {
      const lane = offered % clients.length;
      if (inflight[lane]! >= backlog) {
        skipped++;
        continue;
      }
      inflight[lane]! += 1;
      sent++;
      const sentAt = nowMs();
      pending.push(
        clients[lane]!.send(feeds[lane]!.next()).then(
          (ack) => {
            const at = nowMs();
            inflight[lane]! -= 1;
            latencies.push(at - sentAt);
            if (at <= end) ackedInPhase++;
            if (readAck(ack).code !== 'AA') notAa++;
          },
          () => void failed++,
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const backlogAtEnd = inflight.reduce((sum, count) => sum + count, 0);
  await Promise.all(pending);
  return summarize(latencies, {
    sent,
    notAa,
    failed,
    skipped,
    backlogAtEnd,
    ackedInPhase,
    durationMs: seconds * 1000,
  });
}

/**
 * CPU seconds (user + system) used so far by the PostgreSQL backends serving the bench's
 * database, by pid: the server's pool and the hub's LISTEN connection (and this driver's own
 * few queries). Read from /proc, so only for a PostgreSQL on this machine; undefined
 * otherwise. Shared work (WAL writer, checkpointer) is not in it.
 */
async function backendCpu(db: Db): Promise<Map<number, number> | undefined> {
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`,
  );
  const ticksPerSecond = 100; // USER_HZ on Linux
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / ticksPerSecond);
  }
  return cpu;
}

/** CPU the backends used between two readings (a backend new since the first counts whole). */
function backendCpuBetween(before: Map<number, number>, after: Map<number, number>) {
  let seconds = 0;
  for (const [pid, total] of after) seconds += total - (before.get(pid) ?? 0);
  return seconds;
}

// ---- processes -------------------------------------------------------------------------------

interface Listening {
  mllpPort: number;
  httpPort: number;
}

async function startChild(
  file: string,
  args: string[],
): Promise<{ child: ChildProcess; ready: Listening }> {
  const child = fork(join(repoRoot, 'bench', file), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [Listening];
  return { child, ready };
}

async function ask<T>(child: ChildProcess, type: string, answer: string): Promise<T> {
  const reply = new Promise<T>((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== answer) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
  });
  child.send({ type });
  return reply;
}

async function stop(child: ChildProcess) {
  child.send({ type: 'stop' });
  await Promise.race([once(child, 'exit'), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  child.kill('SIGKILL');
}

interface RunResult {
  closed: PhaseResult;
  open: PhaseResult;
  cpuMsPerMessage: number;
  /** CPU of the PostgreSQL backends serving the database, per message (undefined: unknown). */
  databaseCpuMsPerMessage: number | undefined;
  /** Queries the product server's pool sent per message (0 for the floor, which has none). */
  roundTripsPerMessage: number;
  /** Board events the messages sent should have produced (one per A01, A02, A03). */
  expectedEvents: number;
  boards?: { received: number[]; events: number; failure: string | null };
  outcomes?: Record<string, number>;
}

async function run(kind: 'floor' | 'product', databaseUrl: string, db: Db): Promise<RunResult> {
  const { child, ready } = await startChild(kind === 'floor' ? 'hl7-floor.ts' : 'hl7-server.ts', [
    databaseUrl,
    ...(args['plain-statements'] ? ['--plain-statements'] : []),
  ]);
  const firstEvent = await lastEventId(db);
  let boards: ChildProcess | undefined;
  if (kind === 'product') {
    // The boards are wall displays: they present a device token for the hospital board.
    const label = 'bench display';
    const display = await issueDeviceToken(db, { label, board: null, issuedBy: null }, new Date());
    boards = fork(
      join(repoRoot, 'bench', 'hl7-boards.ts'),
      [
        `ws://127.0.0.1:${ready.httpPort}/board-stream`,
        firstEvent,
        String(boardCount),
        display.token,
      ],
      { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    await once(boards, 'message');
  }
  const clients = await Promise.all(
    Array.from({ length: connections }, () =>
      MllpClient.connect({ host: '127.0.0.1', port: ready.mllpPort, timeoutMs: 120_000 }),
    ),
  );
  // Each run has its own stretch of event time, so the floor's messages never matter.
  const start = Date.now() - (kind === 'floor' ? 40 : 20) * 3_600_000;
  const feeds = clients.map((_, lane) => new Feed(lane, start + lane));

  const profile = kind === 'product' ? args.profile : undefined;
  if (profile) await ask(child, 'profile-start', 'profiling');
  const cpuBefore = await ask<{ micros: number; roundTrips?: number }>(child, 'cpu', 'cpu');
  const databaseBefore = await backendCpu(db);
  const closed = await closedLoop(clients, feeds);
  const open = await openLoop(clients, feeds);
  const cpuAfter = await ask<{ micros: number; roundTrips?: number }>(child, 'cpu', 'cpu');
  const databaseAfter = await backendCpu(db);
  if (profile) {
    child.send({ type: 'profile-stop', file: profile });
    await once(child, 'message');
    console.log(`cpu profile of the product server: ${profile}`);
  }
  await Promise.all(clients.map((client) => client.close()));

  const result: RunResult = {
    closed,
    open,
    cpuMsPerMessage: (cpuAfter.micros - cpuBefore.micros) / 1000 / (closed.sent + open.sent),
    databaseCpuMsPerMessage:
      databaseBefore && databaseAfter
        ? (backendCpuBetween(databaseBefore, databaseAfter) * 1000) / (closed.sent + open.sent)
        : undefined,
    roundTripsPerMessage:
      ((cpuAfter.roundTrips ?? 0) - (cpuBefore.roundTrips ?? 0)) / (closed.sent + open.sent),
    expectedEvents: feeds.reduce((sum, feed) => sum + feed.moves, 0),
  };
  if (boards) {
    // Every event the feed committed must reach every board.
    const lastId = await lastEventId(db);
    let report = await ask<{ received: number[]; lastIds: string[]; failure: string | null }>(
      boards,
      'report',
      'report',
    );
    const deadline = Date.now() + 60_000;
    while (report.lastIds.some((id) => id !== lastId) && Date.now() < deadline && !report.failure) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      report = await ask(boards, 'report', 'report');
    }
    result.boards = {
      received: report.received,
      events: Number(BigInt(lastId) - BigInt(firstEvent)),
      failure: report.failure,
    };
    const { rows } = await db.query<{ status: string; count: number }>(
      `SELECT status::text AS status, count(*)::int AS count FROM hl7_message GROUP BY status`,
    );
    result.outcomes = Object.fromEntries(rows.map((row) => [row.status, row.count]));
    await stop(boards);
  }
  await stop(child);
  return result;
}

/**
 * What must hold whatever the throughput: every message answered AA and stored as applied,
 * and every event of the feed on every board, once, in id order (the boards check the order).
 */
function checkRun(floor: RunResult, product: RunResult): string[] {
  const failures: string[] = [];
  for (const [name, result] of [
    ['floor', floor],
    ['product', product],
  ] as const) {
    const failed = result.closed.failed + result.open.failed;
    const notAa = result.closed.notAa + result.open.notAa;
    if (failed > 0) failures.push(`${name}: ${failed} message(s) got no answer`);
    if (notAa > 0) failures.push(`${name}: ${notAa} answer(s) other than AA`);
  }
  const sent = product.closed.sent + product.open.sent;
  const applied = product.outcomes?.applied ?? 0;
  const stored = Object.values(product.outcomes ?? {}).reduce((sum, count) => sum + count, 0);
  if (applied !== sent || stored !== sent) {
    failures.push(`stored outcomes: ${applied} applied of ${stored} stored, ${sent} sent`);
  }
  const boards = product.boards;
  if (!boards) failures.push('no board report');
  else {
    if (boards.failure) failures.push(`boards: ${boards.failure}`);
    if (boards.events !== product.expectedEvents) {
      failures.push(`events: ${boards.events} committed, ${product.expectedEvents} expected`);
    }
    const short = boards.received.filter((count) => count !== boards.events).length;
    if (short > 0) failures.push(`boards: ${short} did not receive all ${boards.events} events`);
  }
  return failures;
}

// ---- main ------------------------------------------------------------------------------------

const database = await createTestDatabase('bench_hl7');
try {
  await seedBeds(database.db, new Date(Date.now() - 48 * 3_600_000));
  const load = () => loadavg()[0]!.toFixed(2);
  console.log(
    `hl7 bench: ${connections} connections, window ${windowSize}, ${warmup}+${seconds} s closed ` +
      `loop, then ${rate}/s open loop for ${seconds} s; ${boardCount} boards; load ${load()}`,
  );
  const floor = await run('floor', database.url, database.db);
  const product = await run('product', database.url, database.db);

  const row = (name: string, r: PhaseResult) =>
    `${name.padEnd(28)} ${r.perSecond.toFixed(0).padStart(8)} ` +
    `${r.p50.toFixed(1).padStart(7)} ${r.p99.toFixed(1).padStart(7)} ` +
    `${r.max.toFixed(1).padStart(8)} ${String(r.notAa).padStart(6)} ` +
    `${String(r.skipped).padStart(7)} ${String(r.backlogAtEnd).padStart(7)}`;
  console.log(
    `\n${'path'.padEnd(28)} ${'msg/s'.padStart(8)} ${'p50 ms'.padStart(7)} ` +
      `${'p99 ms'.padStart(7)} ${'max ms'.padStart(8)} ${'not AA'.padStart(6)} ` +
      `${'skipped'.padStart(7)} ${'backlog'.padStart(7)}`,
  );
  console.log(row('floor, closed loop', floor.closed));
  console.log(row('product, closed loop', product.closed));
  console.log(row(`floor, open loop ${rate}/s`, floor.open));
  console.log(row(`product, open loop ${rate}/s`, product.open));
  console.log(
    `\nratios (product / floor): closed-loop throughput ` +
      `${(product.closed.perSecond / floor.closed.perSecond).toFixed(3)}, ` +
      `p99 at ${rate}/s ${(product.open.p99 / floor.open.p99).toFixed(1)}x`,
  );
  console.log(
    `server CPU per message: product ${product.cpuMsPerMessage.toFixed(2)} ms, ` +
      `floor ${floor.cpuMsPerMessage.toFixed(3)} ms; database round trips per message: ` +
      `${product.roundTripsPerMessage.toFixed(2)}; PostgreSQL backends' CPU per message: ` +
      `${product.databaseCpuMsPerMessage?.toFixed(2) ?? 'unknown'} ms`,
  );
  console.log('audited: every applied message, before its ACK (packages/audit AuditWriter)');
  const received = [...new Set(product.boards?.received)].join('/');
  const boardFailure = product.boards?.failure ? `; FAILED: ${product.boards.failure}` : '';
  console.log(
    `boards: ${boardCount} on /board-stream, each received ${received} ` +
      `of ${product.boards?.events} events${boardFailure}`,
  );
  console.log(`stored outcomes: ${JSON.stringify(product.outcomes)}; load ${load()}`);
  console.log(
    `msg/s: ACKs received within the phase per second; skipped: open-loop sends not made ` +
      `because the connection already had ${backlog} unanswered; backlog: unanswered at the ` +
      `end of the phase (then drained; their latencies count)`,
  );
  const failures = checkRun(floor, product);
  for (const failure of failures) console.log(`FAILED: ${failure}`);
  const target =
    product.open.perSecond >= rate * 0.98 &&
    product.open.skipped === 0 &&
    product.closed.perSecond >= rate;
  console.log(`target ≥ ${rate}/s sustained: ${target ? 'met' : 'MISSED'}`);
  if (failures.length > 0) process.exitCode = 1;
} finally {
  await database.drop();
}
