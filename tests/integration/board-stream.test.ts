import type { BoardEvent, BoardStreamFrame } from '@medaxis/api';
import { loadBoardBeds } from '@medaxis/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { appendTestEvents, seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';

// The wall displays' feed, GET /board-stream: the same specification as board-live.test.ts
// (tRPC's board.events), over plain websockets as a browser would use it.

let stack: Stack;
let hospital: SmallHospital;
let api: Api;
let closeApi: () => Promise<void>;
/** The bed manager's session cookie the displays below present (every instance takes it). */
let cookie: string;

beforeAll(async () => {
  stack = await startStack();
  hospital = await seedSmallHospital(stack.database.db);
  const connection = stack.connect({ role: 'bed_manager' });
  ({ api, close: closeApi } = connection);
  ({ cookie } = await connection.credentials);
});

afterAll(async () => {
  await closeApi?.();
  await stack?.stop();
});

interface Closed {
  code: number;
  reason: string;
}

/** One display on the stream: every frame it got, and helpers to wait for events or the end. */
function openStream(
  baseUrl: string,
  query: Record<string, string> = {},
  credentials: { cookie: string } = { cookie },
) {
  const url = new URL('/board-stream', baseUrl.replace('http', 'ws'));
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const socket = new WebSocket(url, credentials.cookie ? { headers: credentials } : {});
  const frames: BoardStreamFrame[] = [];
  const events: BoardEvent[] = [];
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) throw new Error('the board stream sends text frames');
    const frame = JSON.parse(data.toString()) as BoardStreamFrame;
    frames.push(frame);
    if (frame.kind === 'event') {
      expect(frame.event.id).toBe(frame.id);
      events.push(frame.event);
    }
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<Closed>((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });

  return {
    socket,
    frames,
    events,
    opened,
    closed,
    async waitFor(count: number, timeoutMs = 10_000) {
      await waitUntil(() => events.length >= count, timeoutMs, `${count} events`);
      return events;
    },
    async close() {
      socket.close();
      await closed;
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admitNew(bedCode: string) {
  return api.adt.admit.mutate({
    bedId: hospital.beds[bedCode]!,
    newEncounter: { class: 'inpatient' },
  });
}

const isolated = new Set<string>();

/** A change to a bed in any state: its isolation mark, on and off in turn. */
async function touch(bedCode: string) {
  const isolation = !isolated.has(bedCode);
  if (isolation) isolated.add(bedCode);
  else isolated.delete(bedCode);
  return api.beds.setIsolation.mutate({ bedId: hospital.beds[bedCode]!, isolation });
}

/** Waits until the stream serves `count` boards, so a following commit is live for them. */
async function streaming(count: number, target: Stack = stack) {
  await waitUntil(() => target.boardStream.socketCount === count, 10_000, `${count} boards`);
}

describe('board stream', () => {
  it('delivers committed events in order, as text frames with the id outside', async () => {
    const { lastEventId } = await api.board.snapshot.query();
    const board = openStream(stack.baseUrl, { lastEventId });
    await board.opened;

    const admitted = [];
    for (const code of ['MED-01-A', 'MED-01-B', 'MED-02-A']) admitted.push(await admitNew(code));
    const events = await board.waitFor(3);

    expect(events.map((e) => e.id)).toEqual(admitted.map((a) => a.eventId));
    expect(events.map((e) => e.beds[0]!.code)).toEqual(['MED-01-A', 'MED-01-B', 'MED-02-A']);
    expect(events.every((e) => e.beds[0]!.status === 'occupied')).toBe(true);
    await board.close();
  });

  it('starts from the last committed event when the board names none', async () => {
    await touch('ED-02-A');
    const board = openStream(stack.baseUrl);
    await streaming(1);

    const live = await touch('ED-02-B');
    await board.waitFor(1);
    await sleep(300);

    expect(board.events.map((e) => e.id)).toEqual([live.eventId]);
    await board.close();
  });

  it('replays exactly the missed events after a reconnect, then continues live', async () => {
    const { lastEventId } = await api.board.snapshot.query();
    const before = openStream(stack.baseUrl, { lastEventId });
    await before.opened;
    const seen = await admitNew('SUR-01-A');
    await before.waitFor(1);
    await before.close();

    // While no board listens, three things happen.
    const missed = [
      await admitNew('SUR-01-B'),
      await admitNew('SUR-02-A'),
      await api.adt.discharge.mutate({ encounterId: seen.encounterId }),
    ];

    const after = openStream(stack.baseUrl, { lastEventId: seen.eventId });
    await after.waitFor(3);
    const live = await admitNew('SUR-02-B');
    const events = await after.waitFor(4);

    expect(events.map((e) => e.id)).toEqual([...missed.map((m) => m.eventId), live.eventId]);
    // Nothing is delivered twice, however long we wait.
    await sleep(300);
    expect(after.events).toHaveLength(4);
    await after.close();
  });

  it('loses and repeats nothing when events commit while the replay runs', async () => {
    const { lastEventId } = await api.board.snapshot.query();
    const writes = (async () => {
      const ids = [];
      for (const code of ['ED-01-A', 'ED-01-B', 'MED-02-B']) ids.push((await touch(code)).eventId);
      return ids;
    })();
    // Opened while the commands run: some come by replay, some live, some possibly both ways.
    const board = openStream(stack.baseUrl, { lastEventId });
    const ids = await writes;

    await board.waitFor(3);
    await sleep(300);
    expect(board.events.map((e) => e.id)).toEqual(ids);
    await board.close();
  });

  it('sends an event once when the live feed brings it after the replay already did', async () => {
    // Fault found by bench:hl7: a board that went live while the instance's delivery of an
    // event was still under way got that event from the replay and again from the live feed.
    // Here the delivery is made late for certain: the hub's LISTEN connection is cut, an event
    // commits unheard, a board replays it, and the hub brings it when it has reconnected.
    const { lastEventId } = await api.board.snapshot.query();
    await stack.database.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
    );
    await waitUntil(() => !stack.hub.listening, 10_000, 'the hub to notice');
    const unheard = await touch('MED-01-A');
    const board = openStream(stack.baseUrl, { lastEventId });
    await board.waitFor(1);
    await waitUntil(() => stack.hub.listening, 10_000, 'the hub to listen again');
    await sleep(300);
    const live = await touch('MED-01-B');

    await board.waitFor(2);
    await sleep(300);
    expect(board.events.map((e) => e.id)).toEqual([unheard.eventId, live.eventId]);
    await board.close();
  });

  it('sends the same events as the tRPC subscription board.events', async () => {
    const { lastEventId } = await api.board.snapshot.query();
    const streamed = openStream(stack.baseUrl, { lastEventId, department: 'MED' });
    const subscribed: BoardEvent[] = [];
    const subscription = api.board.events.subscribe(
      { lastEventId, department: 'MED' },
      {
        onData: (message) => {
          if ('id' in message && message.data.kind === 'event') subscribed.push(message.data);
        },
      },
    );
    await streamed.opened;

    await touch('SUR-01-B');
    await touch('MED-01-A');
    const boarding = await admitNew('ED-02-A');
    // A transfer into MED touches an ED bed and a MED bed; a MED board sees only its side.
    await api.adt.transfer.mutate({
      encounterId: boarding.encounterId,
      bedId: hospital.beds['MED-02-B']!,
    });

    await streamed.waitFor(2);
    await waitUntil(() => subscribed.length >= 2);
    await sleep(300);
    expect(streamed.events).toEqual(subscribed);
    expect(streamed.events.map((e) => e.beds.map((b) => b.code))).toEqual([
      ['MED-01-A'],
      ['MED-02-B'],
    ]);
    subscription.unsubscribe();
    await streamed.close();
  });

  it('filters a department board to its own beds', async () => {
    const { lastEventId } = await api.board.snapshot.query({ department: 'ED' });
    const board = openStream(stack.baseUrl, { lastEventId, department: 'ED' });
    await board.opened;
    await touch('SUR-02-B');
    const ed = await touch('ED-01-A');

    const events = await board.waitFor(1);
    await sleep(300);
    expect(board.events.map((e) => e.id)).toEqual([ed.eventId]);
    expect(events[0]!.beds.map((b) => b.departmentCode)).toEqual(['ED']);
    await board.close();
  });

  it('sends a heartbeat to an idle board every 5 s', async () => {
    const board = openStream(stack.baseUrl);
    await board.opened;

    await waitUntil(() => board.frames.some((f) => f.kind === 'heartbeat'), 7_000, 'a heartbeat');
    const heartbeat = board.frames.find((f) => f.kind === 'heartbeat')!;

    expect(heartbeat).toEqual({ kind: 'heartbeat', serverTime: expect.any(String) });
    if (heartbeat.kind !== 'heartbeat') throw new Error('unreachable');
    expect(Math.abs(Date.parse(heartbeat.serverTime) - Date.now())).toBeLessThan(7_000);
    await board.close();
  });
});

describe('board stream refusals', () => {
  it.each([
    [{ department: 'not a code!' }, 1008, 'invalid department'],
    [{ department: '' }, 1008, 'invalid department'],
    [{ lastEventId: 'abc' }, 1008, 'invalid lastEventId'],
    [{ lastEventId: '-1' }, 1008, 'invalid lastEventId'],
    [{ since: '5' }, 1008, 'invalid query'],
    [{ department: 'NOPE' }, 4404, 'No department NOPE.'],
  ])('closes a socket asking for %o with %i “%s”', async (query, code, reason) => {
    const board = openStream(stack.baseUrl, query);

    expect(await board.closed).toEqual({ code, reason });
    expect(board.frames).toEqual([]);
  });

  it('closes a socket that presents no session or device token with 4401', async () => {
    const board = openStream(stack.baseUrl, {}, { cookie: '' });

    expect(await board.closed).toEqual({ code: 4401, reason: 'not allowed' });
    expect(board.frames).toEqual([]);
  });

  it('keeps serving other boards after refusing one', async () => {
    const refused = openStream(stack.baseUrl, { lastEventId: 'x' });
    await refused.closed;
    const board = openStream(stack.baseUrl);
    await streaming(1);

    const touched = await touch('SUR-02-A');

    expect((await board.waitFor(1))[0]!.id).toBe(touched.eventId);
    await board.close();
  });
});

describe('board stream sockets', () => {
  it('releases every socket, and its hub subscription, when boards disconnect', async () => {
    const hubBefore = stack.hub.subscriberCount;
    const boards = Array.from({ length: 20 }, (_, i) =>
      openStream(stack.baseUrl, i % 2 === 0 ? {} : { department: 'ED' }),
    );
    await streaming(20);
    // One hub listener serves every board of the instance.
    expect(stack.hub.subscriberCount).toBe(hubBefore + 1);

    await Promise.all(boards.map((board) => board.close()));

    await streaming(0);
    expect(stack.hub.subscriberCount).toBe(hubBefore);
  });

  it('releases a socket whose client vanished without closing', async () => {
    const board = openStream(stack.baseUrl);
    await streaming(1);

    board.socket.terminate();

    await streaming(0);
  });
});

describe('two server instances on one database', () => {
  it('delivers an event committed through instance A to a board of instance B', async () => {
    const other = await startStack({ database: stack.database });
    try {
      const { lastEventId } = await api.board.snapshot.query();
      const board = openStream(other.baseUrl, { lastEventId });
      await board.opened;

      const touched = await touch('MED-02-A');
      const events = await board.waitFor(1);

      expect(events[0]!.id).toBe(touched.eventId);
      expect(events[0]!.beds[0]!.code).toBe('MED-02-A');
      await board.close();
    } finally {
      await other.stop();
    }
  });
});

describe('a board that cannot keep up', () => {
  it(
    'is cut off with “fell behind”, then resumes from its last event and misses none',
    {
      timeout: 90_000,
    },
    async () => {
      // A small bound, so that the burst below crosses it quickly once the kernel's buffers fill.
      const slow = await startStack({
        database: stack.database,
        boardStream: { maxBufferedBytes: 64 * 1024 },
      });
      try {
        const { lastEventId } = await api.board.snapshot.query();
        const board = openStream(slow.baseUrl, { lastEventId });
        await streaming(1, slow);
        // The display stops reading: its socket's buffers fill, then the server's.
        (board.socket as unknown as { _socket: { pause(): void } })._socket.pause();

        const burst = await appendLargeEvents(stack, 600);
        await streaming(0, slow);
        expect(slow.logs.join('')).toContain('board fell behind; told to resume');

        // Reading again, it gets what was already on its way, then the close telling it to resume.
        (board.socket as unknown as { _socket: { resume(): void } })._socket.resume();
        expect(await board.closed).toEqual({
          code: 4001,
          reason: 'fell behind: reconnect and resume',
        });
        const got = board.events.map((e) => e.id);
        expect(got.length).toBeLessThan(burst.length);
        expect(got).toEqual(burst.slice(0, got.length));

        const resumed = openStream(slow.baseUrl, { lastEventId: got.at(-1) ?? lastEventId });
        // ~20 MB of replay, parsed by this process: seconds alone, tens of seconds on a machine
        // busy with other test files. The test is about what arrives, not how fast.
        await resumed.waitFor(burst.length - got.length, 50_000);
        await sleep(300);
        expect(resumed.events.map((e) => e.id)).toEqual(burst.slice(got.length));
        await resumed.close();
      } finally {
        await slow.stop();
      }
    },
  );
});

/**
 * `count` committed events of about 48 KB each (every bed of the hospital, a dozen times), in
 * one transaction: a burst of ~30 MB, several times what the loopback socket buffers took
 * before the server's own buffer grew here (~6 MB), so the bound is crossed on any machine.
 */
async function appendLargeEvents(target: Stack, count: number): Promise<string[]> {
  const db = target.database.db;
  const beds = await loadBoardBeds(db, Object.values(hospital.beds));
  const payload = Array.from({ length: 12 }, () => beds).flat();
  return appendTestEvents(db, count, payload, { type: 'test-burst' });
}
