import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  TRPCClientError,
  wsLink,
} from '@trpc/client';
import type { AppRouter, BoardMessage, BoardSnapshot } from '@medaxis/api';

export interface BoardQuery {
  department?: string;
}

export interface BoardStreamHandlers {
  /** The server accepted the subscription: it is listening for us. */
  onStarted(): void;
  onMessage(message: BoardMessage): void;
  /** The subscription ended with an error; the socket itself reconnects on its own. */
  onError(error: unknown): void;
}

export interface Unsubscribe {
  (): void;
}

/**
 * What the board needs from the server. An interface rather than the tRPC client itself, so the
 * board state can be tested with a fake.
 */
export interface BoardApi {
  snapshot(query: BoardQuery): Promise<BoardSnapshot>;
  events(
    query: BoardQuery & { lastEventId: string | null },
    handlers: BoardStreamHandlers,
  ): Unsubscribe;
  /** Calls back with true when the websocket is open, false when it is down. */
  onSocketChange(listener: (open: boolean) => void): Unsubscribe;
  close(): void;
}

/**
 * tRPC hands a `tracked()` event to the client as `{ id, data }`, an untracked one as is;
 * both arrive as the BoardMessage inside.
 */
export function toBoardMessage(value: unknown): BoardMessage {
  if (typeof value === 'object' && value !== null && !('kind' in value) && 'data' in value) {
    return value.data as BoardMessage;
  }
  return value as BoardMessage;
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

function socketUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/trpc`;
}

/** The board's tRPC client: queries over HTTP, the event stream over a websocket, same origin. */
export function createBoardApi(location: Location = window.location): BoardApi {
  const socket = createWSClient({
    url: socketUrl(location),
    // Reconnect quickly but not in a storm: 0.5 s, 1 s, 2 s … capped at 5 s.
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 5_000),
    // A half-open socket (a cable pulled, a proxy gone) never closes by itself; pings find it.
    keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 3_000 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: socket }),
        false: httpBatchLink({ url: '/trpc' }),
      }),
    ],
  });

  return {
    snapshot: (query) => client.board.snapshot.query(query),

    events(query, handlers) {
      const input = {
        ...(query.department === undefined ? {} : { department: query.department }),
        ...(query.lastEventId === null ? {} : { lastEventId: query.lastEventId }),
      };
      const subscription = client.board.events.subscribe(input, {
        onStarted: () => handlers.onStarted(),
        onData: (value: unknown) => handlers.onMessage(toBoardMessage(value)),
        onError: (error: unknown) => handlers.onError(error),
      });
      return () => subscription.unsubscribe();
    },

    onSocketChange(listener) {
      // 'pending' is tRPC's name for an open socket ready for requests.
      const subscription = socket.connectionState.subscribe({
        next: (state) => listener(state.state === 'pending'),
      });
      return () => subscription.unsubscribe();
    },

    close() {
      void socket.close();
    },
  };
}
