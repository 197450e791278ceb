/** What the board knows about its feed; `data-connection` on the board's root. */
export const Connection = {
  /** Heard from the server within the last few seconds. */
  live: 'live',
  /** The socket is open but nothing (event or heartbeat) came for too long. */
  stale: 'stale',
  /** No socket, or no snapshot yet. */
  offline: 'offline',
} as const;
export type Connection = (typeof Connection)[keyof typeof Connection];

/** Heartbeats come every 5 s: two missed plus slack, and the board says it is stale. */
export const staleAfterMs = 12_000;

/** Silent this long on an open socket, the board re-subscribes in case the stream died. */
export const resubscribeAfterMs = 20_000;

export interface FeedState {
  loaded: boolean;
  socketOpen: boolean;
  /** Client clock (ms) when the server was last heard from, null before the first snapshot. */
  lastHeardAt: number | null;
  now: number;
}

export function connectionAt(feed: FeedState): Connection {
  if (!feed.loaded || !feed.socketOpen || feed.lastHeardAt === null) return Connection.offline;
  return feed.now - feed.lastHeardAt > staleAfterMs ? Connection.stale : Connection.live;
}
