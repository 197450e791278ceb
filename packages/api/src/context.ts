import type { Db, EventRow } from '@medaxis/db';

/** A live source of committed events, fed by the server's single LISTEN connection. */
export interface EventFeed {
  /**
   * Calls `listener` with every event committed after this call, in id order, and with a
   * heartbeat every few seconds. Returns the function that stops it.
   */
  subscribe(listener: (message: FeedMessage) => void): () => void;
}

export type FeedMessage =
  { kind: 'event'; event: Omit<EventRow, 'departmentIds'> } | { kind: 'heartbeat'; at: Date };

export interface Context {
  db: Db;
  feed: EventFeed;
  requestId: string;
  now: () => Date;
}
