/**
 * HL7 v2 over MLLP, sustained: messages per second applied, audited and streamed to boards,
 * and ACK latency, for the product against a floor measured in the same run (a bare MLLP
 * server that answers AA at once, bench/hl7-floor.ts). See docs/benchmarks.md.
 *
 *   npm run bench:hl7 [-- --connections 16 --window 4 --seconds 20 --rate 1000 --boards 10]
 *
 * Two phases per server: closed loop (every connection keeps `window` messages in flight: the
 * most it sustains) and open loop at `rate` messages/s (the ACK latency at the target).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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
  },
});
const connections = Number(args.connections);
const windowSize = Number(args.window);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const rate = Number(args.rate);
const boardCount = Number(args.boards);
const slots = Number(args.slots);

// ---- the feed: per connection, visits in `slots` bed pairs, each A01 → A02 → A08 → A03 -------

const events = ['A01', 'A02', 'A08', 'A03'] as const;

/** One connection's endless, valid ADT stream over its own beds. */
class Feed {
  private sequence = 0;
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
  messages: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  notAa: number;
}

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(latencies: number[], notAa: number, durationMs: number): PhaseResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    messages: latencies.length,
    perSecond: (latencies.length * 1000) / durationMs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    notAa: notAa,
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
  await Promise.all(
    clients.map(async (client, lane) => {
      const inflight = new Set<Promise<void>>();
      while (nowMs() < until) {
        while (inflight.size < windowSize) {
          const sentAt = nowMs();
          const done = client.send(feeds[lane]!.next()).then((ack) => {
            if (sentAt < measureFrom || sentAt >= until) return;
            latencies.push(nowMs() - sentAt);
            if (readAck(ack).code !== 'AA') notAa++;
          });
          inflight.add(done);
          void done.finally(() => inflight.delete(done));
        }
        await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  return summarize(latencies, notAa, seconds * 1000);
}

/** `rate` messages per second, spread over the connections in turn, for `seconds`. */
async function openLoop(clients: MllpClient[], feeds: Feed[]): Promise<PhaseResult> {
  const start = nowMs();
  const total = rate * seconds;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let notAa = 0;
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) * rate) / 1000));
    for (; sent < due; sent++) {
      const lane = sent % clients.length;
      const sentAt = nowMs();
      pending.push(
        clients[lane]!.send(feeds[lane]!.next()).then((ack) => {
          latencies.push(nowMs() - sentAt);
          if (readAck(ack).code !== 'AA') notAa++;
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  return summarize(latencies, notAa, nowMs() - start);
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
  boards?: { received: number[]; events: number; failure: string | null };
  outcomes?: Record<string, number>;
}

async function run(kind: 'floor' | 'product', databaseUrl: string, db: Db): Promise<RunResult> {
  const { child, ready } = await startChild(kind === 'floor' ? 'hl7-floor.ts' : 'hl7-server.ts', [
    databaseUrl,
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

  const cpuBefore = await ask<{ micros: number }>(child, 'cpu', 'cpu');
  const closed = await closedLoop(clients, feeds);
  const open = await openLoop(clients, feeds);
  const cpuAfter = await ask<{ micros: number }>(child, 'cpu', 'cpu');
  await Promise.all(clients.map((client) => client.close()));

  const result: RunResult = {
    closed,
    open,
    cpuMsPerMessage:
      (cpuAfter.micros - cpuBefore.micros) / 1000 / (closed.messages + open.messages),
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
    `${r.max.toFixed(1).padStart(8)} ${String(r.notAa).padStart(6)}`;
  console.log(
    `\n${'path'.padEnd(28)} ${'msg/s'.padStart(8)} ${'p50 ms'.padStart(7)} ` +
      `${'p99 ms'.padStart(7)} ${'max ms'.padStart(8)} ${'not AA'.padStart(6)}`,
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
      `floor ${floor.cpuMsPerMessage.toFixed(3)} ms`,
  );
  console.log('audited: every applied message, before its ACK (packages/audit AuditWriter)');
  console.log(
    `boards: ${boardCount} on /board-stream, each received ${[...new Set(product.boards?.received)].join('/')} ` +
      `of ${product.boards?.events} events${product.boards?.failure ? `; FAILED: ${product.boards.failure}` : ''}`,
  );
  console.log(`stored outcomes: ${JSON.stringify(product.outcomes)}; load ${load()}`);
  const target = product.open.perSecond >= rate * 0.98 && product.closed.perSecond >= rate;
  console.log(`target ≥ ${rate}/s sustained: ${target ? 'met' : 'MISSED'}`);
} finally {
  await database.drop();
}
