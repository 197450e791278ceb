import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter, BoardSnapshot } from '@medaxis/api';

import { BoardStream, type BoardStreamHandlers } from './board-stream.ts';

export type { BoardStreamHandlers } from './board-stream.ts';

export interface BoardQuery {
  department?: string;
}

export interface Unsubscribe {
  (): void;
}

/**
 * What the board needs from the server. An interface rather than the clients themselves, so
 * the board state can be tested with a fake.
 */
export interface BoardApi {
  snapshot(query: BoardQuery): Promise<BoardSnapshot>;
  /** Live events after `lastEventId`; reconnects and resumes by itself until unsubscribed. */
  events(
    query: BoardQuery & { lastEventId: string | null },
    handlers: BoardStreamHandlers,
  ): Unsubscribe;
  /** Calls back with true when the stream's socket opens, false when it drops. */
  onSocketChange(listener: (open: boolean) => void): Unsubscribe;
  close(): void;
}

/** A tRPC error code ('NOT_FOUND', ...) when the error carries one. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data;
    if (typeof data === 'object' && data !== null && 'code' in data) {
      return typeof data.code === 'string' ? data.code : undefined;
    }
  }
  return undefined;
}

/** `/board-stream` on the page's origin, for a department (or the hospital), from an event on. */
export function boardStreamUrl(
  location: Pick<Location, 'protocol' | 'host'>,
  department: string | undefined,
  lastEventId: string | null,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams();
  if (department !== undefined) query.set('department', department);
  if (lastEventId !== null) query.set('lastEventId', lastEventId);
  const search = query.size > 0 ? `?${query.toString()}` : '';
  return `${scheme}//${location.host}/board-stream${search}`;
}

/**
 * The board's server: the snapshot over tRPC (HTTP), live events over the board stream, a
 * websocket made for wall displays (one encoding of each event for all of them), same origin.
 */
export function createBoardApi(location: Location = window.location): BoardApi {
  const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: '/trpc' })] });
  const socketListeners = new Set<(open: boolean) => void>();
  let stream: BoardStream | null = null;

  return {
    snapshot: (query) => client.board.snapshot.query(query),

    events(query, handlers) {
      stream?.close();
      const current = new BoardStream({
        url: (lastEventId) => boardStreamUrl(location, query.department, lastEventId),
        lastEventId: query.lastEventId,
        handlers,
        onSocketChange: (open) => {
          for (const listener of socketListeners) listener(open);
        },
      });
      stream = current;
      return () => {
        current.close();
        if (stream === current) stream = null;
      };
    },

    onSocketChange(listener) {
      socketListeners.add(listener);
      return () => socketListeners.delete(listener);
    },

    close() {
      stream?.close();
      stream = null;
    },
  };
}
