/**
 * Commit → last of N boards: how long after a bed command commits the last of 1,000 subscribed
 * boards has its event, next to a floor measured in the same run (raw pg_notify and a plain
 * `ws` broadcast to as many sockets), plus server memory with 0 and with N idle boards. The
 * product path is the board stream (/board-stream, what wall displays use); tRPC's
 * `board.events` is measured too, for reference.
 *
 *   npm run bench:board -- [--boards 1000] [--rounds 200] [--warmup 20] [--gap-ms 20]
 *                          [--block 10] [--client-processes 2] [--samples file.json] [--profile]
 *                          [--events block|swap]
 *
 * Processes: this driver (commits, clock, statistics), three servers (the floor, the board
 * stream, tRPC; each in its own process, the two product ones on databases of their own) and
 * per server `--client-processes` processes sharing its boards. All stay up for the whole run;
 * the paths take turns in blocks of `--block` rounds, so load that changes during the run
 * falls on all of them alike. Every time is a `process.hrtime.bigint()` reading:
 * CLOCK_MONOTONIC, which all processes of one machine share; the driver checks that at
 * start-up (each client's reading must fall inside the driver's send/receive window). A round
 * starts when the driver sends the transaction's COMMIT and ends when the last board
 * has parsed the event in its application callback. Loopback only; every wait is bounded and
 * the whole run gives up after 15 minutes.
 *
 * `--events` picks the rounds' command. `block` (the default) blocks and unblocks a bed: an event
 * that shows no patient. `swap` swaps two named patients' beds back and forth: an event that
 * shows both patients' initials on every display, so each board's delivery waits for its audit
 * row (a read of those patients, committed before the frame leaves).
 *
 * `--samples` writes every round's figures as JSON; `--profile` writes a CPU profile of each
 * server over the measured rounds (to the system's temporary directory; the profiler slows the
 * server, so take figures from a run without it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import {
  createDb,
  ensureEncounter,
  ensurePatient,
  executeCommand,
  lastEventId,
  readEventsAfter,
  withTransaction,
  type Db,
  type EventRow,
} from '@medaxis/db';
import { createTestDatabase } from '@medaxis/db/testing';
import { issueDeviceToken } from '@medaxis/auth';
import { liveCommandOptions, type Command } from '@medaxis/domain';

import { seedSmallHospital, type SmallHospital } from '../tests/support/fixtures.ts';
import type {
  ClientMode,
  ClientsConfig,
  ClientsReport,
  ClientsRequest,
  MemorySample,
  ServerReport,
  ServerRequest,
  ServerStatus,
} from './protocol.ts';

const { values: flags } = parseArgs({
  options: {
    boards: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    'client-processes': { type: 'string', default: '2' },
    'gap-ms': { type: 'string', default: '20' },
    /** Rounds a path runs before the next path takes its turn. */
    block: { type: 'string', default: '10' },
    /** Also write every round's latency here, as JSON, for a closer look. */
    samples: { type: 'string' },
    profile: { type: 'boolean', default: false },
    /** The rounds' command: `block` (no patient shown) or `swap` (two patients' initials). */
    events: { type: 'string', default: 'block' },
  },
});
if (flags.events !== 'block' && flags.events !== 'swap') {
  throw new Error(`--events must be block or swap, not ${flags.events}`);
}
const eventKind = flags.events;
const boards = integer(flags.boards, 'boards', 1);
const rounds = integer(flags.rounds, 'rounds', 1);
const warmup = integer(flags.warmup, 'warmup', 0);
const processes = integer(flags['client-processes'], 'client-processes', 1);
const gapMs = integer(flags['gap-ms'], 'gap-ms', 0);
const block = integer(flags.block, 'block', 1);

const floorChannel = 'medaxis_bench_floor';
const roundTimeoutMs = 10_000;
const connectTimeoutMs = 120_000;
const runTimeoutMs = 15 * 60_000;
const profileDir = join(os.tmpdir(), 'medaxis-bench-profiles');

// ---- child processes -------------------------------------------------------------------------

type Report = ServerReport | ClientsReport;

/** Everything the children said, for `waitFor` to look through. */
const inboxes = new Map<ChildProcess, Report[]>();
/** Per event key, one report per client process that has it at all its boards. */
const roundReports = new Map<string, { firstNs: bigint; afterFirstUs: number[] }[]>();
const updates = new EventEmitter();
const stopping = new Set<ChildProcess>();
let crash: Error | undefined;

function start(file: string, args: string[], execArgv: string[] = []): ChildProcess {
  const child = fork(join(import.meta.dirname, file), args, {
    execArgv: [...process.execArgv, ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  inboxes.set(child, []);
  child.on('message', (report: Report) => {
    if (report.type === 'round') {
      // Keys are event ids or round numbers, which repeat across paths: file them by path.
      const key = `${pathOfClient.get(child) ?? '?'}:${report.key}`;
      const reports = roundReports.get(key) ?? [];
      reports.push({ firstNs: BigInt(report.firstNs), afterFirstUs: report.afterFirstUs });
      roundReports.set(key, reports);
    } else if (report.type === 'failed') {
      crash ??= new Error(`${file}: ${report.message}`);
    } else {
      inboxes.get(child)?.push(report);
    }
    updates.emit('update');
  });
  child.on('exit', (code, signal) => {
    inboxes.delete(child);
    if (!stopping.has(child)) crash ??= new Error(`${file} exited (${code ?? signal})`);
    updates.emit('update');
  });
  return child;
}

/** Resolves with `check()`'s first defined answer, re-asked whenever a child reports. */
function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      const failure = crash;
      if (failure) return finish(() => reject(failure));
      const value = check();
      if (value !== undefined) finish(() => resolve(value));
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`))),
      timeoutMs,
    );
    const finish = (then: () => void) => {
      clearTimeout(timer);
      updates.off('update', settle);
      then();
    };
    updates.on('update', settle);
    settle();
  });
}

function take<T extends Report['type']>(child: ChildProcess, type: T, timeoutMs = 30_000) {
  return waitFor(
    () => {
      const inbox = inboxes.get(child) ?? [];
      const index = inbox.findIndex((report) => report.type === type);
      return index < 0 ? undefined : (inbox.splice(index, 1)[0] as Extract<Report, { type: T }>);
    },
    timeoutMs,
    `${type} from process ${child.pid}`,
  );
}

function status(server: ChildProcess, collect: boolean): Promise<ServerStatus> {
  server.send({ type: 'status', collect } satisfies ServerRequest);
  return take(server, 'status');
}

async function stop(children: ChildProcess[]) {
  for (const child of children) {
    stopping.add(child);
    if (child.connected) child.send({ type: 'stop' });
  }
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const late = sleep(5_000, 'late', { ref: false });
      if ((await Promise.race([exited, late])) === 'late') {
        child.kill('SIGKILL');
      }
    }),
  );
}

/** Fails the run unless the client's clock reading lands between our send and our receipt. */
async function checkClock(client: ChildProcess): Promise<number> {
  const sent = process.hrtime.bigint();
  client.send({ type: 'clock', driverNs: sent.toString() });
  const { clientNs } = await take(client, 'clock');
  const received = process.hrtime.bigint();
  const reading = BigInt(clientNs);
  if (reading < sent || reading > received) {
    throw new Error(`process ${client.pid} has another monotonic clock; times would not compare`);
  }
  return Number(received - sent) / 1e6;
}

// ---- one path: server, boards, rounds --------------------------------------------------------

interface PathResult {
  /** Per round, when the last board had the event (the figure the targets are about). */
  latencyMs: number[];
  firstMs: number[];
  /** Per round, when half the boards had it. */
  medianBoardMs: number[];
  /** COMMIT sent → COMMIT returned, to show both paths' commits cost alike. */
  commitMs: number[];
  memoryIdle0: MemorySample;
  memoryIdleN: MemorySample;
  cpuMsPerEvent: number;
  /** Summed over the client processes. */
  clientsCpuMsPerEvent: number;
  clockRttMs: number;
}

interface PathSpec {
  mode: ClientMode;
  server: ChildProcess;
  urlPath: string;
  lastEventId: string;
  /** What its boards present (product paths: a device token for the hospital board). */
  cookie?: string;
  /**
   * Commits round `round`'s change through the commit pool (`openCommitPool`); resolves
   * after COMMIT returns, with the key (event id) the boards will report.
   */
  commit(round: number): Promise<string>;
}

/** A path with its boards connected, and its figures so far. */
interface OpenPath {
  spec: PathSpec;
  clients: ChildProcess[];
  memoryIdle0: MemorySample;
  memoryIdleN: MemorySample;
  clockRttMs: number;
  /** Rounds run so far, warm-up included. */
  round: number;
  measured: Pick<PathResult, 'latencyMs' | 'firstMs' | 'medianBoardMs' | 'commitMs'> & {
    cpuMicros: number;
    clientsCpuMicros: number;
  };
}

/** Which path each client process serves: their round reports are filed under it. */
const pathOfClient = new Map<ChildProcess, ClientMode>();

/** Starts the path's boards and samples its server idle, with none and with all of them. */
async function openPath(spec: PathSpec): Promise<OpenPath> {
  const { port } = await take(spec.server, 'listening', 60_000);
  const memoryIdle0 = (await status(spec.server, true)).memory;

  const clients = shares(boards, processes).map((count) => {
    const config: ClientsConfig = {
      mode: spec.mode,
      url: `ws://127.0.0.1:${port}${spec.urlPath}`,
      boards: count,
      lastEventId: spec.lastEventId,
      cookie: spec.cookie,
    };
    const client = start('board-clients.ts', [JSON.stringify(config)]);
    pathOfClient.set(client, spec.mode);
    return client;
  });
  await Promise.all(clients.map((client) => take(client, 'ready', connectTimeoutMs)));
  const clockRttMs = Math.max(...(await Promise.all(clients.map(checkClock))));
  await waitUntilServing(spec.server);
  // Let connection set-up garbage and timers settle before sampling the idle server.
  await sleep(2_000);
  const memoryIdleN = (await status(spec.server, true)).memory;

  return {
    spec,
    clients,
    memoryIdle0,
    memoryIdleN,
    clockRttMs,
    round: 0,
    measured: {
      latencyMs: [],
      firstMs: [],
      medianBoardMs: [],
      commitMs: [],
      cpuMicros: 0,
      clientsCpuMicros: 0,
    },
  };
}

/**
 * `count` rounds of one path, one after the other; recorded (with the server's and the clients'
 * CPU over the block) unless `warming`.
 */
async function runBlock(path: OpenPath, count: number, warming: boolean) {
  const { spec, clients, measured } = path;
  const cpuBefore = warming ? 0 : (await status(spec.server, false)).cpuMicros;
  const clientsCpuBefore = warming ? 0 : await clientsCpu(clients);

  for (let n = 0; n < count; n++) {
    const round = path.round++;
    const key = `${spec.mode}:${await spec.commit(round)}`;
    const committed = commits.sentNs;
    const returned = commits.returnedNs;
    const reports = await waitFor(
      () => {
        const got = roundReports.get(key);
        return got?.length === clients.length ? got : undefined;
      },
      roundTimeoutMs,
      `${spec.mode} round ${round} (event ${key}) at every board`,
    );
    roundReports.delete(key);
    if (!warming) {
      const arrivals = reports
        .flatMap(({ firstNs, afterFirstUs }) => {
          const first = sinceMs(committed, firstNs);
          return afterFirstUs.map((us) => first + us / 1e3);
        })
        .sort((a, b) => a - b);
      measured.commitMs.push(sinceMs(committed, returned));
      measured.latencyMs.push(arrivals.at(-1)!);
      measured.firstMs.push(arrivals[0]!);
      measured.medianBoardMs.push(percentile(arrivals, 0.5));
    }
    await sleep(gapMs);
  }

  if (warming) return;
  measured.cpuMicros += (await status(spec.server, false)).cpuMicros - cpuBefore;
  measured.clientsCpuMicros += (await clientsCpu(clients)) - clientsCpuBefore;
}

/**
 * Warm-up, then the measured rounds in blocks of `--block`, the paths taking turns (each cycle
 * starting with the next path), so that a change in the machine's load while the run lasts
 * falls on every path alike rather than on whichever ran last.
 */
async function measurePaths(paths: OpenPath[]): Promise<PathResult[]> {
  for (const path of paths) await runBlock(path, warmup, true);

  if (flags.profile) {
    for (const { spec } of paths)
      spec.server.send({ type: 'profile-start' } satisfies ServerRequest);
  }
  for (let done = 0, cycle = 0; done < rounds; done += block, cycle++) {
    const count = Math.min(block, rounds - done);
    for (let i = 0; i < paths.length; i++) {
      await runBlock(paths[(cycle + i) % paths.length]!, count, false);
    }
  }
  if (flags.profile) {
    mkdirSync(profileDir, { recursive: true });
    for (const { spec } of paths) {
      const file = join(profileDir, `${spec.mode}-${Date.now()}.cpuprofile`);
      spec.server.send({ type: 'profile-stop', file } satisfies ServerRequest);
      const { file: written } = await take(spec.server, 'profiled');
      console.log(`CPU profile of the ${spec.mode} server's measured rounds: ${written}`);
    }
  }

  return paths.map(({ measured, memoryIdle0, memoryIdleN, clockRttMs }) => ({
    latencyMs: measured.latencyMs,
    firstMs: measured.firstMs,
    medianBoardMs: measured.medianBoardMs,
    commitMs: measured.commitMs,
    memoryIdle0,
    memoryIdleN,
    cpuMsPerEvent: measured.cpuMicros / 1000 / rounds,
    clientsCpuMsPerEvent: measured.clientsCpuMicros / 1000 / rounds,
    clockRttMs,
  }));
}

async function clientsCpu(clients: ChildProcess[]): Promise<number> {
  const readings = await Promise.all(
    clients.map((client) => {
      client.send({ type: 'cpu' } satisfies ClientsRequest);
      return take(client, 'cpu');
    }),
  );
  return readings.reduce((sum, reading) => sum + reading.cpuMicros, 0);
}

async function waitUntilServing(server: ChildProcess) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { subscribers } = await status(server, false);
    if (subscribers === boards) return;
    if (Date.now() > deadline) throw new Error(`server serves ${subscribers} of ${boards}`);
    await sleep(100);
  }
}

// ---- the run ---------------------------------------------------------------------------------

/**
 * Every path commits through a one-connection pool like this, which notes when each COMMIT is
 * sent and when it returns (rounds never overlap, so one note serves all pools). The round
 * starts at the send: a point this process reaches while it runs. Stamped after COMMIT returns
 * instead, a loaded machine may let the boards have the event before this process is scheduled
 * again to read the clock (seen: negative latencies).
 */
const commits = { sentNs: 0n, returnedNs: 0n };

function openCommitPool(url: string): Db {
  const db = createDb(url, { max: 1 });
  db.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    client.query = ((...args: unknown[]) => {
      if (args[0] !== 'COMMIT') return query(...args);
      commits.sentNs = process.hrtime.bigint();
      return query(...args).finally(() => (commits.returnedNs = process.hrtime.bigint()));
    }) as typeof client.query;
  });
  return db;
}

/** One wall-display device token for the whole hospital's board, shared by all boards. */
async function displayCookie(db: Db): Promise<string> {
  const label = 'bench display';
  const { token } = await issueDeviceToken(db, { label, board: null, issuedBy: null }, new Date());
  return `medaxis_device=${token}`;
}

async function run() {
  const loadBefore = os.loadavg();
  // One database per product path: each server hears only its own path's events. The floor
  // notifies on a channel of its own in the first one.
  const streamDb = await createTestDatabase('bench_stream');
  const trpcDb = await createTestDatabase('bench_trpc');
  const streamCommits = openCommitPool(streamDb.url);
  const trpcCommits = openCommitPool(trpcDb.url);
  const servers: ChildProcess[] = [];
  const paths: OpenPath[] = [];
  try {
    const streamRound = await prepareRounds(streamDb.db);
    const trpcRound = await prepareRounds(trpcDb.db);
    const sample = await streamRound.sample();
    await trpcRound.sample();

    const floorServer = start(
      'floor-server.ts',
      [streamDb.url, floorChannel, sample],
      ['--expose-gc'],
    );
    servers.push(floorServer);
    paths.push(
      await openPath({
        mode: 'floor',
        server: floorServer,
        urlPath: '',
        lastEventId: '0',
        commit: async (round) => {
          const key = String(round + 1);
          await withTransaction(streamCommits, (tx) =>
            tx.query(`SELECT pg_notify($1, $2)`, [floorChannel, key]),
          );
          return key;
        },
      }),
    );

    const streamServer = start('board-server.ts', [streamDb.url, 'stream'], ['--expose-gc']);
    servers.push(streamServer);
    paths.push(
      await openPath({
        mode: 'stream',
        server: streamServer,
        urlPath: '/board-stream',
        lastEventId: await lastEventId(streamDb.db),
        cookie: await displayCookie(streamDb.db),
        commit: (round) => streamRound.commit(streamCommits, round),
      }),
    );

    const trpcServer = start('board-server.ts', [trpcDb.url, 'trpc'], ['--expose-gc']);
    servers.push(trpcServer);
    paths.push(
      await openPath({
        mode: 'trpc',
        server: trpcServer,
        urlPath: '/trpc',
        lastEventId: await lastEventId(trpcDb.db),
        cookie: await displayCookie(trpcDb.db),
        commit: (round) => trpcRound.commit(trpcCommits, round),
      }),
    );

    const [floor, stream, trpc] = (await measurePaths(paths)) as [
      PathResult,
      PathResult,
      PathResult,
    ];

    const { rows } = await streamDb.db.query<{ version: string }>(
      `SELECT current_setting('server_version') AS version`,
    );
    console.log(
      describeRun({
        postgres: rows[0]?.version ?? '?',
        eventBytes: Buffer.byteLength(sample),
        load: [loadBefore, os.loadavg()],
      }),
    );
    console.log(describeResults(floor, stream, trpc));
    if (flags.samples) writeFileSync(flags.samples, JSON.stringify({ floor, stream, trpc }));
  } finally {
    await stop(paths.flatMap((path) => path.clients));
    await stop(servers);
    await streamCommits.end();
    await trpcCommits.end();
    await streamDb.drop();
    await trpcDb.drop();
  }
}

interface Rounds {
  /** One round's command, committed on `db`; resolves to its event id. */
  commit(db: Db, round: number): Promise<string>;
  /**
   * One real event of the rounds' kind, as the product would send it, for the floor to send
   * the same number of bytes; the database is left as the rounds start from.
   */
  sample(): Promise<string>;
}

/** The small test hospital, and the rounds `--events` asks for on it. */
async function prepareRounds(db: Db): Promise<Rounds> {
  const hospital = await seedSmallHospital(db);
  const command = eventKind === 'swap' ? await swapInTurn(db, hospital) : blockInTurn(hospital);
  const commit = async (on: Db, round: number) => {
    const at = new Date();
    const result = await executeCommand(on, command(round, at), {
      source: 'bench',
      options: liveCommandOptions(at),
    });
    return result.eventId;
  };
  return {
    commit,
    async sample() {
      const first = await commit(db, 0);
      await commit(db, 1);
      const [row] = await readEventsAfter(db, String(BigInt(first) - 1n), 1);
      if (!row) throw new Error('the sample event is missing');
      return JSON.stringify(boardEventOf(row));
    },
  };
}

/** Blocks and unblocks one bed in turn: a real command, one event, the same size each time. */
function blockInTurn(hospital: SmallHospital) {
  const bedId = hospital.beds['MED-01-A']!;
  return (round: number, at: Date): Command =>
    round % 2 === 0
      ? { type: 'block', bedId, reason: 'maintenance', at }
      : { type: 'unblock', bedId, at };
}

/**
 * Two named patients in MED-01-A and MED-01-B, whose beds are swapped each round: one event
 * showing both patients' initials, the same size each time.
 */
async function swapInTurn(db: Db, hospital: SmallHospital) {
  const encounters: string[] = [];
  for (const [index, bed] of ['MED-01-A', 'MED-01-B'].entries()) {
    const patientId = await ensurePatient(db, {
      mrn: `BENCH-${index}`,
      authority: 'BENCH',
      familyName: ['Wojcik', 'Abernathy'][index]!,
      givenName: ['Halina', 'Quentin'][index]!,
      birthDate: '1960-01-02',
      sex: 'F',
    });
    const encounterId = await ensureEncounter(db, { patientId, class: 'inpatient' });
    const at = new Date(Date.now() - 60_000);
    await executeCommand(
      db,
      { type: 'admit', encounterId, bedId: hospital.beds[bed]!, at },
      { source: 'bench', options: liveCommandOptions(at) },
    );
    encounters.push(encounterId);
  }
  const [encounterId, otherEncounterId] = encounters as [string, string];
  return (_round: number, at: Date): Command => ({
    type: 'swap',
    encounterId,
    otherEncounterId,
    at,
  });
}

/** The whole-hospital board event, field for field as the board stream sends it. */
function boardEventOf(row: Omit<EventRow, 'departmentIds'>) {
  const payload = row.payload as { beds?: unknown[] };
  return {
    kind: 'event',
    id: row.id,
    type: row.type,
    occurredAt: row.occurredAt,
    recordedAt: row.recordedAt,
    beds: payload.beds ?? [],
  };
}

// ---- figures ---------------------------------------------------------------------------------

function describeRun(run: { postgres: string; eventBytes: number; load: number[][] }): string {
  const cpus = os.cpus();
  const load = run.load.map((l) => l.map((n) => n.toFixed(2)).join(' / ')).join(' → ');
  return [
    `## Board latency: commit → last of ${boards} boards`,
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${gib(os.totalmem())} GiB RAM, ` +
      `Linux ${os.release()}; Node ${process.versions.node}; PostgreSQL ${run.postgres}`,
    `- load average (1 / 5 / 15 min), start → end: ${load}`,
    `- ${rounds} rounds after ${warmup} warm-up rounds, ${gapMs} ms apart; ${boards} boards ` +
      `over ${processes} client processes; board event ${run.eventBytes} bytes of JSON`,
    eventKind === 'swap'
      ? `- rounds: swap two named patients' beds (each board shows their initials; one audit ` +
        `row per board per event, committed before the frame leaves)`
      : `- rounds: block / unblock one bed (no patient shown, no audit row)`,
    `- a round: COMMIT sent → the last board has parsed the event; clocks: CLOCK_MONOTONIC`,
  ].join('\n');
}

function describeResults(floor: PathResult, stream: PathResult, trpc: PathResult): string {
  const f = summary(floor);
  const s = summary(stream);
  const t = summary(trpc);
  const verdict = (ratio: number, target: number) =>
    `${ratio.toFixed(2)}× (target ≤ ${target}×: ${ratio <= target ? 'met' : 'missed'})`;
  return [
    '',
    '| path | p50 ms | p90 ms | p99 ms | max ms | first board p50 ms | median board p50 ms ' +
      '| COMMIT p50 ms | server CPU ms/event | clients CPU ms/event |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('floor (pg_notify + ws)', f),
    row('product: board stream', s),
    row('reference: tRPC board.events', t),
    '',
    `- p50 board stream/floor: ${verdict(s.p50 / f.p50, 1.3)}`,
    `- p99 board stream/floor: ${verdict(s.p99 / f.p99, 2)}`,
    `- for reference, tRPC/floor: p50 ${(t.p50 / f.p50).toFixed(2)}×, ` +
      `p99 ${(t.p99 / f.p99).toFixed(2)}×`,
    '',
    '| server memory, after a full GC | RSS MiB | heap used MiB | external + buffers MiB |',
    '|---|---:|---:|---:|',
    memoryRow('board stream, 0 boards', stream.memoryIdle0),
    memoryRow(`board stream, ${boards} idle boards`, stream.memoryIdleN),
    memoryRow('tRPC, 0 boards', trpc.memoryIdle0),
    memoryRow(`tRPC, ${boards} idle boards`, trpc.memoryIdleN),
    memoryRow('floor, 0 sockets', floor.memoryIdle0),
    memoryRow(`floor, ${boards} idle sockets`, floor.memoryIdleN),
    '',
    `- per idle board: board stream ${perBoardKib(stream, 'rss')} KiB RSS, ` +
      `${perBoardKib(stream, 'heapUsed')} KiB heap; tRPC ${perBoardKib(trpc, 'rss')} KiB RSS, ` +
      `${perBoardKib(trpc, 'heapUsed')} KiB heap`,
    `- clock check: each client process read CLOCK_MONOTONIC within the driver's IPC round ` +
      `trip (≤ ${Math.max(floor.clockRttMs, stream.clockRttMs, trpc.clockRttMs).toFixed(2)} ms)`,
  ].join('\n');
}

function summary(result: PathResult) {
  const sorted = [...result.latencyMs].sort((a, b) => a - b);
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  return {
    p50,
    p99,
    cells: [
      p50,
      percentile(sorted, 0.9),
      p99,
      sorted.at(-1) ?? NaN,
      median(result.firstMs),
      median(result.medianBoardMs),
      median(result.commitMs),
      result.cpuMsPerEvent,
      result.clientsCpuMsPerEvent,
    ],
  };
}

function row(label: string, s: ReturnType<typeof summary>) {
  return `| ${label} | ${s.cells.map((n) => n.toFixed(2)).join(' | ')} |`;
}

function memoryRow(label: string, m: MemorySample) {
  return `| ${label} | ${mib(m.rss)} | ${mib(m.heapUsed)} | ${mib(m.external + m.arrayBuffers)} |`;
}

function perBoardKib(result: PathResult, field: 'rss' | 'heapUsed') {
  return ((result.memoryIdleN[field] - result.memoryIdle0[field]) / 1024 / boards).toFixed(1);
}

/** Nearest rank: the smallest value at or above which lies the fraction `q` of the sample. */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((total + i) / parts)).filter(
    (n) => n > 0,
  );
}

const sinceMs = (from: bigint, to: bigint) => Number(to - from) / 1e6;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

function integer(value: string, name: string, least: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < least) throw new Error(`--${name} must be an integer ≥ ${least}`);
  return n;
}

// ---- main ------------------------------------------------------------------------------------

const giveUp = setTimeout(() => {
  crash ??= new Error(`the run took longer than ${runTimeoutMs / 60_000} minutes`);
  updates.emit('update');
}, runTimeoutMs);

try {
  await run();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  clearTimeout(giveUp);
  await stop([...inboxes.keys()]);
}
