import type { BoardMessage } from '@medaxis/api';
import { TRPCClientError } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { BoardApi, BoardStreamHandlers } from './board-api.ts';
import { BoardState, unavailableRecheckMs } from './board.svelte.ts';
import { makeBed, makeDepartment, makeSnapshot } from './testing/factories.ts';

/** A server in memory: resolves the snapshot, records subscriptions, lets a test push messages. */
function fakeApi() {
  const snapshot = makeSnapshot([
    makeDepartment('MED', [
      makeBed({ id: 1, code: 'MED-1', status: 'free' }),
      makeBed({ id: 2, code: 'MED-2', status: 'occupied' }),
    ]),
  ]);
  const subscriptions: { lastEventId: string | null; handlers: BoardStreamHandlers }[] = [];
  let socketListener: (open: boolean) => void = () => {};
  const api: BoardApi = {
    snapshot: vi.fn(() => Promise.resolve(snapshot)),
    events(query, handlers) {
      subscriptions.push({ lastEventId: query.lastEventId, handlers });
      return () => {};
    },
    onSocketChange(listener) {
      socketListener = listener;
      return () => {};
    },
    close: vi.fn(),
  };
  return {
    api,
    subscriptions,
    setSocket: (open: boolean) => socketListener(open),
    push: (message: BoardMessage) => subscriptions.at(-1)?.handlers.onMessage(message),
  };
}

function admit(id: string, bedId: number, code: string): BoardMessage {
  return {
    kind: 'event',
    id,
    type: 'A01',
    occurredAt: '2026-12-03T10:00:00Z',
    recordedAt: '2026-12-03T10:00:00Z',
    beds: [makeBed({ id: bedId, code, departmentCode: 'MED', status: 'occupied' })],
  };
}

describe('board state', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse('2026-12-03T10:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function started() {
    const server = fakeApi();
    const board = new BoardState(server.api);
    const stop = board.start();
    server.setSocket(true);
    await vi.advanceTimersByTimeAsync(0);
    return { server, board, stop };
  }

  it('subscribes from the snapshot’s last event id', async () => {
    const { server, board } = await started();

    expect(server.subscriptions).toHaveLength(1);
    expect(server.subscriptions[0]?.lastEventId).toBe('100');
    expect(board.connection).toBe('live');
    expect(board.figures.free).toBe(1);
  });

  it('applies each event once, however often a replay repeats it', async () => {
    const { server, board } = await started();

    server.push(admit('101', 1, 'MED-1'));
    server.push(admit('101', 1, 'MED-1'));
    server.push(admit('99', 1, 'MED-1'));

    expect(board.lastEventId).toBe('101');
    expect(board.eventsApplied).toBe(1);
    expect(board.eventsIgnored).toBe(2);
    expect(board.figures.occupied).toBe(2);
  });

  it('goes stale after 12 s without a heartbeat, and live again on the next one', async () => {
    const { server, board } = await started();

    await vi.advanceTimersByTimeAsync(12_000);
    expect(board.connection).toBe('live');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(board.connection).toBe('stale');

    server.push({ kind: 'heartbeat', serverTime: new Date().toISOString() });
    expect(board.connection).toBe('live');
  });

  it('is offline while the socket is down, whatever it last heard', async () => {
    const { server, board } = await started();

    server.setSocket(false);
    expect(board.connection).toBe('offline');
    server.setSocket(true);
    expect(board.connection).toBe('live');
  });

  it('re-subscribes from the last applied event when an open socket stays silent', async () => {
    const { server } = await started();
    server.push(admit('101', 1, 'MED-1'));

    await vi.advanceTimersByTimeAsync(22_000);

    expect(server.subscriptions).toHaveLength(2);
    expect(server.subscriptions[1]?.lastEventId).toBe('101');
  });

  it('reloads the snapshot when the server ends the stream with an error', async () => {
    const { server } = await started();

    server.subscriptions[0]?.handlers.onError(new Error('gone'));
    await vi.advanceTimersByTimeAsync(1_000);

    expect(server.api.snapshot).toHaveBeenCalledTimes(2);
    expect(server.subscriptions).toHaveLength(2);
  });

  it('hands over to sign-in, and stops retrying, when the server no longer knows it', async () => {
    const server = fakeApi();
    const refused = new TRPCClientError('Sign in first.', {
      result: {
        error: { code: -32001, message: 'Sign in first.', data: { code: 'UNAUTHORIZED' } },
      },
    });
    const onSignedOut = vi.fn();
    const board = new BoardState(
      { ...server.api, snapshot: vi.fn().mockRejectedValue(refused) },
      undefined,
      { onSignedOut },
    );
    board.start();
    await vi.advanceTimersByTimeAsync(30_000);

    expect(onSignedOut).toHaveBeenCalledOnce();
    expect(board.problem).toBe('Signed out');
    expect(vi.getTimerCount()).toBe(0);
  });

  function refusal(code: 'FORBIDDEN' | 'NOT_FOUND') {
    return new TRPCClientError('Not allowed.', {
      result: { error: { code: -32003, message: 'Not allowed.', data: { code } } },
    });
  }

  // Reported: a charge nurse opening another ward's board, or a department that does not
  // exist, showed "retrying…" forever and asked the server again every 15 s.
  for (const [code, reason] of [
    ['FORBIDDEN', 'forbidden'],
    ['NOT_FOUND', 'not_found'],
  ] as const) {
    it(`says the board is unavailable on ${code}, and asks again every few minutes`, async () => {
      const server = fakeApi();
      const snapshot = vi
        .fn()
        .mockRejectedValueOnce(refusal(code))
        .mockRejectedValueOnce(refusal(code))
        .mockImplementation(server.api.snapshot);
      const board = new BoardState({ ...server.api, snapshot }, 'ICU');
      board.start();
      await vi.advanceTimersByTimeAsync(0);

      expect(board.unavailable).toBe(reason);
      expect(board.problem).toBeNull();

      await vi.advanceTimersByTimeAsync(unavailableRecheckMs - 1_000);
      expect(snapshot).toHaveBeenCalledOnce();

      await vi.advanceTimersByTimeAsync(1_000);
      expect(snapshot).toHaveBeenCalledTimes(2);
      expect(board.unavailable).toBe(reason);

      // An admin fixed it: the next recheck shows the board.
      await vi.advanceTimersByTimeAsync(unavailableRecheckMs);
      expect(snapshot).toHaveBeenCalledTimes(3);
      expect(board.unavailable).toBeNull();
      expect(server.subscriptions).toHaveLength(1);
    });
  }

  it('retries the snapshot until the server answers', async () => {
    const server = fakeApi();
    const failing = vi
      .fn()
      .mockRejectedValueOnce(new Error('ECONNREFUSED'))
      .mockImplementation(server.api.snapshot);
    const board = new BoardState({ ...server.api, snapshot: failing });
    board.start();
    await vi.advanceTimersByTimeAsync(0);

    expect(board.connection).toBe('offline');
    expect(board.problem).toBe('Cannot load the board from the server');

    await vi.advanceTimersByTimeAsync(1_000);
    expect(board.problem).toBeNull();
    expect(server.subscriptions).toHaveLength(1);
  });

  it('reloads the snapshot for a bed added since it, at most once a minute', async () => {
    const { server, board } = await started();

    server.push(admit('101', 77, 'MED-77'));
    await vi.advanceTimersByTimeAsync(0);
    server.push(admit('102', 78, 'MED-78'));
    await vi.advanceTimersByTimeAsync(0);

    expect(server.api.snapshot).toHaveBeenCalledTimes(2);
    expect(server.subscriptions).toHaveLength(2);
    expect(board.connection).toBe('live');
  });

  it('stops every timer and the socket when stopped', async () => {
    const { server, stop } = await started();

    stop();

    expect(server.api.close).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes the clock from the server, not from the display', async () => {
    const { server, board } = await started();

    server.push({ kind: 'heartbeat', serverTime: '2026-12-03T10:00:30.000Z' });

    expect(board.serverNow - Date.now()).toBe(30_000);
  });
});
