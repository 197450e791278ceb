import type { BoardEvent, FeedMessage } from '@medaxis/api';
import { loadBoardBeds, readEventsAfter } from '@medaxis/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { appendTestEvents, seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';

let stack: Stack;
let hospital: SmallHospital;

beforeAll(async () => {
  stack = await startStack();
  hospital = await seedSmallHospital(stack.database.db);
});

afterAll(async () => {
  await stack?.stop();
});

/** Collects the board events a subscription delivers, with helpers to wait for them. */
function watchBoard(api: Api, input: { lastEventId?: string; department?: string } = {}) {
  const events: BoardEvent[] = [];
  const waiters: (() => void)[] = [];
  const subscription = api.board.events.subscribe(input, {
    onData: (message) => {
      // Heartbeats arrive untracked; events arrive as tracked { id, data }.
      if (!('id' in message) || message.data.kind !== 'event') return;
      events.push(message.data);
      for (const wake of waiters.splice(0)) wake();
    },
  });
  return {
    events,
    async waitFor(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} events, got ${events.length}`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return events;
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}

async function admitNew(api: Api, bedCode: string) {
  const bedId = hospital.beds[bedCode]!;
  return api.adt.admit.mutate({ bedId, newEncounter: { class: 'inpatient' } });
}

describe('board subscription', () => {
  it('delivers committed events in order', async () => {
    const { api, close } = stack.connect();
    const { lastEventId } = await api.board.snapshot.query();
    const board = watchBoard(api, { lastEventId });

    const admitted = [];
    for (const code of ['MED-01-A', 'MED-01-B', 'MED-02-A'])
      admitted.push(await admitNew(api, code));
    const events = await board.waitFor(3);

    expect(events.map((e) => e.id)).toEqual(admitted.map((a) => a.eventId));
    expect(events.map((e) => e.beds[0]!.code)).toEqual(['MED-01-A', 'MED-01-B', 'MED-02-A']);
    expect(events.every((e) => e.beds[0]!.status === 'occupied')).toBe(true);
    board.unsubscribe();
    await close();
  });

  it('replays exactly the missed events after a reconnect, then continues live', async () => {
    const first = stack.connect();
    const { lastEventId } = await first.api.board.snapshot.query();
    const before = watchBoard(first.api, { lastEventId });
    const seen = await admitNew(first.api, 'SUR-01-A');
    await before.waitFor(1);
    before.unsubscribe();
    await first.close();

    // While no board listens, three things happen.
    const { api: writer, close: closeWriter } = stack.connect();
    const missed = [
      await admitNew(writer, 'SUR-01-B'),
      await admitNew(writer, 'SUR-02-A'),
      await writer.adt.discharge.mutate({ encounterId: seen.encounterId }),
    ];

    const second = stack.connect();
    const after = watchBoard(second.api, { lastEventId: seen.eventId });
    await after.waitFor(3);
    const live = await admitNew(writer, 'SUR-02-B');
    const events = await after.waitFor(4);

    expect(events.map((e) => e.id)).toEqual([...missed.map((m) => m.eventId), live.eventId]);
    // Nothing is delivered twice, however long we wait.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(after.events).toHaveLength(4);
    after.unsubscribe();
    await second.close();
    await closeWriter();
  });

  it('filters a department board to its own beds', async () => {
    const { api, close } = stack.connect();
    const { lastEventId } = await api.board.snapshot.query({ department: 'ED' });
    const board = watchBoard(api, { lastEventId, department: 'ED' });
    await admitNew(api, 'MED-02-B');
    const ed = await admitNew(api, 'ED-01-A');

    const events = await board.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(board.events.map((e) => e.id)).toEqual([ed.eventId]);
    expect(events[0]!.beds.map((b) => b.departmentCode)).toEqual(['ED']);
    board.unsubscribe();
    await close();
  });
});

describe('board snapshot of one department', () => {
  // Reported: /board/icu failed while /board/ICU worked.
  it('matches the code whatever its case and answers with the canonical one', async () => {
    const { api, close } = stack.connect();
    const snapshot = await api.board.snapshot.query({ department: 'med' });

    expect(snapshot.departments.map((d) => d.code)).toEqual(['MED']);
    expect(snapshot.departments[0]!.rooms.length).toBeGreaterThan(0);
    await close();
  });

  it('refuses a ward’s user another ward in any case, before saying if it exists', async () => {
    const { api, close } = stack.connect({ role: 'charge_nurse', departments: ['MED'] });

    for (const department of ['sur', 'Sur', 'nope']) {
      await expect(api.board.snapshot.query({ department })).rejects.toMatchObject({
        data: { code: 'FORBIDDEN' },
      });
    }
    expect((await api.board.snapshot.query({ department: 'Med' })).departments).toHaveLength(1);
    await close();
  });
});

describe('subscriber lifecycle', () => {
  it('releases every subscriber of the hub when boards disconnect', async () => {
    const boards = Array.from({ length: 20 }, () => stack.connect());
    const subscriptions = boards.map(({ api }) => watchBoard(api));
    await waitUntil(() => stack.hub.subscriberCount >= 20);

    for (const subscription of subscriptions) subscription.unsubscribe();
    for (const board of boards) await board.close();

    await waitUntil(() => stack.hub.subscriberCount === 0);
    expect(stack.hub.subscriberCount).toBe(0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('two server instances on one database', () => {
  it('delivers an event committed through instance A to a subscriber of instance B', async () => {
    const other = await startStack({ database: stack.database });
    try {
      const a = stack.connect();
      const b = other.connect();
      const { lastEventId } = await b.api.board.snapshot.query();
      const board = watchBoard(b.api, { lastEventId });

      const admitted = await admitNew(a.api, 'ED-01-B');
      const events = await board.waitFor(1);

      expect(events[0]!.id).toBe(admitted.eventId);
      expect(events[0]!.beds[0]!.code).toBe('ED-01-B');
      board.unsubscribe();
      await a.close();
      await b.close();
    } finally {
      await other.stop();
    }
  });
});

describe('the event hub', () => {
  it('catches up on more than a page of events committed while its LISTEN was cut', async () => {
    const delivered: string[] = [];
    const stop = stack.hub.subscribe((message) => {
      if (message.kind === 'event') delivered.push(message.event.id);
    });
    try {
      const db = stack.database.db;
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%'`,
      );
      await expect.poll(() => stack.hub.listening, { timeout: 10_000 }).toBe(false);
      // 1,500 events unheard: the hub's catch-up reads them a page (1,000) at a time.
      const ids = await appendTestEvents(db, 1_500, [], { type: 'test-unheard' });
      await expect.poll(() => delivered.length, { timeout: 15_000 }).toBe(1_500);
      expect(delivered).toEqual(ids);
    } finally {
      stop();
    }
  });

  it('delivers each event as the log has it, carried by its notification or read when too large', async () => {
    const delivered: FeedMessage[] = [];
    const stop = stack.hub.subscribe((message) => {
      if (message.kind === 'event') delivered.push(message);
    });
    try {
      const db = stack.database.db;
      // One event small enough for its notification to carry it, one far too large.
      const beds = await loadBoardBeds(db, Object.values(hospital.beds));
      const append = async (copies: number) => {
        const payload = Array.from({ length: copies }, () => beds).flat();
        const [id] = await appendTestEvents(db, 1, payload, { type: 'test-notice' });
        return id!;
      };
      const small = await append(1);
      const large = await append(20);
      await expect.poll(() => delivered.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);

      const ids = delivered.map((message) => message.kind === 'event' && message.event.id);
      expect(ids).toEqual([small, large]);
      const fromLog = await readEventsAfter(db, String(BigInt(small) - 1n), 2);
      // The first fits a notification (the hub delivers it unread), the second does not.
      expect(JSON.stringify(fromLog[0]).length).toBeLessThan(7_000);
      expect(JSON.stringify(fromLog[1]).length).toBeGreaterThan(8_000);
      expect(delivered.map((message) => message.kind === 'event' && message.event)).toEqual(
        fromLog,
      );
    } finally {
      stop();
    }
  });
});
