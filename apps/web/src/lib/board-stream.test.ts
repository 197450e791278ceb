import type { BoardEvent, BoardMessage, BoardStreamFrame } from '@medaxis/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BoardStream, closeCodes, type StreamSocket } from './board-stream.ts';

/** A socket the test drives: it opens, delivers frames and closes when told to. */
class FakeSocket implements StreamSocket {
  onopen: ((event: Event) => unknown) | null = null;
  onmessage: ((event: MessageEvent) => unknown) | null = null;
  onclose: ((event: CloseEvent) => unknown) | null = null;
  closedWith: number | undefined;

  constructor(readonly url: string) {}

  open() {
    this.onopen?.(new Event('open'));
  }

  send(frame: BoardStreamFrame) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }));
  }

  /** The server (or the network) ends the connection. */
  drop(code = 1006, reason = '') {
    this.onclose?.(new CloseEvent('close', { code, reason }));
  }

  close(code?: number) {
    this.closedWith = code;
  }
}

function event(id: string): BoardEvent {
  return {
    kind: 'event',
    id,
    type: 'block',
    occurredAt: '2026-12-03T10:00:00Z',
    recordedAt: '2026-12-03T10:00:00Z',
    beds: [],
  };
}

const frame = (id: string): BoardStreamFrame => ({ kind: 'event', id, event: event(id) });

function connect(lastEventId: string | null = '100') {
  const sockets: FakeSocket[] = [];
  const received: BoardMessage[] = [];
  const socketStates: boolean[] = [];
  const errors: Error[] = [];
  let started = 0;
  const stream = new BoardStream({
    url: (last) => `ws://test/board-stream?lastEventId=${last ?? ''}`,
    lastEventId,
    handlers: {
      onStarted: () => (started += 1),
      onMessage: (message) => received.push(message),
      onError: (error) => errors.push(error),
    },
    onSocketChange: (open) => socketStates.push(open),
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
  });
  return {
    stream,
    sockets,
    received,
    socketStates,
    errors,
    started: () => started,
    /** The socket in use now. */
    current: () => sockets.at(-1)!,
    ids: () => received.flatMap((m) => (m.kind === 'event' ? [m.id] : [])),
  };
}

describe('board stream client', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens from the last event the board has and passes events on in order', () => {
    const board = connect('100');
    board.current().open();

    board.current().send(frame('101'));
    board.current().send(frame('102'));

    expect(board.sockets.map((s) => s.url)).toEqual(['ws://test/board-stream?lastEventId=100']);
    expect(board.started()).toBe(1);
    expect(board.ids()).toEqual(['101', '102']);
    expect(board.stream.lastEventId).toBe('102');
  });

  it('drops an event at or below the last one it passed on', () => {
    const board = connect('100');
    board.current().open();

    board.current().send(frame('101'));
    board.current().send(frame('101'));
    board.current().send(frame('99'));
    board.current().send(frame('100'));
    board.current().send(frame('102'));

    expect(board.ids()).toEqual(['101', '102']);
  });

  it('compares ids as numbers, not text (9 < 10)', () => {
    const board = connect('9');
    board.current().open();

    board.current().send(frame('10'));

    expect(board.ids()).toEqual(['10']);
  });

  it('passes heartbeats on without moving the resume point', () => {
    const board = connect('100');
    board.current().open();

    board.current().send({ kind: 'heartbeat', serverTime: '2026-12-03T10:00:05.000Z' });

    expect(board.received).toEqual([{ kind: 'heartbeat', serverTime: '2026-12-03T10:00:05.000Z' }]);
    expect(board.stream.lastEventId).toBe('100');
  });

  it('resumes after the last event it passed on when the socket drops', async () => {
    const board = connect('100');
    board.current().open();
    board.current().send(frame('101'));
    board.current().send(frame('102'));

    board.current().drop();
    await vi.advanceTimersByTimeAsync(500);

    expect(board.sockets).toHaveLength(2);
    expect(board.current().url).toBe('ws://test/board-stream?lastEventId=102');

    // The replay overlaps what the board had; only the new event goes on.
    board.current().open();
    for (const id of ['102', '103']) board.current().send(frame(id));
    expect(board.ids()).toEqual(['101', '102', '103']);
    expect(board.started()).toBe(2);
  });

  it('backs off while the server is unreachable: 0.5 s, 1 s, 2 s … at most 5 s', async () => {
    const board = connect('100');
    const delays: number[] = [];

    for (let attempt = 0; attempt < 6; attempt++) {
      const before = board.sockets.length;
      board.current().drop();
      let waited = 0;
      while (board.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      delays.push(waited);
    }

    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('starts the backoff over once the server answers again', async () => {
    const board = connect('100');
    board.current().drop();
    await vi.advanceTimersByTimeAsync(500);
    board.current().drop();
    await vi.advanceTimersByTimeAsync(1_000);

    board.current().open();
    board.current().send({ kind: 'heartbeat', serverTime: '2026-12-03T10:00:05.000Z' });
    board.current().drop();
    await vi.advanceTimersByTimeAsync(500);

    expect(board.sockets).toHaveLength(4);
  });

  it('reconnects at once when the server cut it off for falling behind', async () => {
    const board = connect('100');
    board.current().open();
    board.current().send(frame('101'));

    board.current().drop(closeCodes.fellBehind, 'fell behind: reconnect and resume');
    await vi.advanceTimersByTimeAsync(0);

    expect(board.sockets).toHaveLength(2);
    expect(board.current().url).toBe('ws://test/board-stream?lastEventId=101');
  });

  it.each([
    ['a malformed query', closeCodes.invalidQuery, 'invalid department'],
    ['an unknown department', closeCodes.notFound, 'No department NOPE.'],
    ['a board it may not see', closeCodes.forbidden, 'not allowed'],
  ])('reports %s and stops, for the board to reload', async (_what, code, reason) => {
    const board = connect('100');
    board.current().open();

    board.current().drop(code, reason);
    await vi.advanceTimersByTimeAsync(10_000);

    expect(board.sockets).toHaveLength(1);
    expect(board.errors.map((e) => e.message)).toEqual([reason]);
  });

  it('reports its socket opening and dropping, but not its own close', async () => {
    const board = connect('100');
    board.current().open();
    board.current().drop();
    await vi.advanceTimersByTimeAsync(500);
    board.current().open();

    board.stream.close();

    expect(board.socketStates).toEqual([true, false, true]);
    expect(board.current().closedWith).toBe(1000);
  });

  it('stops reconnecting once closed', async () => {
    const board = connect('100');
    board.current().drop();

    board.stream.close();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(board.sockets).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
