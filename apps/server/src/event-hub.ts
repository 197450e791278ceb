import {
  eventChannel,
  lastEventId,
  parseEventNotice,
  readEventsAfter,
  type Db,
  type EventRow,
} from '@medaxis/db';
import type { EventFeed, FeedMessage } from '@medaxis/api';
import pg from 'pg';
import type { FastifyBaseLogger as Logger } from 'fastify';

const heartbeatMs = 5_000;
const reconnectMs = 1_000;
/** Subscribers served per turn of the event loop; see `broadcast`. */
const fanOutChunk = 64;
/** Events carried by notifications and not yet delivered, at most (beyond, they are read). */
const maxNoticed = 1_000;

/**
 * One LISTEN connection per server instance, fanned out to every subscriber of the instance.
 * The hub delivers events strictly in id order, each once: the next one after the last it
 * delivered. A notification usually carries that event (packages/db `appendEvent`), and the
 * hub then delivers it without a read; otherwise (an event too large to carry, a batch, a
 * notification lost while reconnecting) it reads every event after the last one it delivered
 * from the log. So coalesced or lost notifications never lose an event, and each event is
 * read from the database at most once per instance however many boards watch.
 */
export class EventHub implements EventFeed {
  private readonly listeners = new Set<(message: FeedMessage) => void>();
  private client: pg.Client | undefined;
  private lastDelivered = '0';
  /** Events notifications carried, by id, until delivered. */
  private readonly noticed = new Map<string, Omit<EventRow, 'departmentIds'>>();
  /** The highest id a notification named: every event up to it is committed. */
  private notifiedUpTo = 0n;
  /** Read the log on the next pump whatever was notified: after (re)connecting. */
  private catchUp = true;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;
  listening = false;

  constructor(
    private readonly db: Db,
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.lastDelivered = await lastEventId(this.db);
    await this.listen();
    this.heartbeat = setInterval(
      () => void this.broadcast({ kind: 'heartbeat', at: new Date() }),
      heartbeatMs,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnect);
    this.listening = false;
    await this.client?.end().catch(() => {});
    await this.pumping;
  }

  subscribe(listener: (message: FeedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (message) => {
      const notice = parseEventNotice(message.payload);
      if (notice) {
        const id = BigInt(notice.id);
        if (id > this.notifiedUpTo) this.notifiedUpTo = id;
        if (notice.event && this.noticed.size < maxNoticed) {
          this.noticed.set(notice.id, notice.event);
        }
      } else {
        // Not a notice we can read: read the log rather than guess.
        this.catchUp = true;
      }
      this.pump();
    });
    client.on('error', (error) => {
      this.log.warn({ err: error }, 'event listener connection failed');
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    await client.connect();
    await client.query(`LISTEN ${eventChannel}`);
    this.client = client;
    this.listening = true;
    // Catch up on whatever committed while we were not listening.
    this.catchUp = true;
    this.pump();
  }

  private scheduleReconnect(client: pg.Client) {
    if (this.stopped || client !== this.client) return;
    this.client = undefined;
    this.listening = false;
    const retry = () => {
      if (this.stopped) return;
      this.listen().catch((error: unknown) => {
        this.log.warn({ err: error }, 'event listener reconnect failed');
        this.reconnect = setTimeout(retry, reconnectMs);
      });
    };
    this.reconnect = setTimeout(retry, reconnectMs);
  }

  /** Single-flight: notifications arriving during a read ask for one more read, not more. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        try {
          await this.deliverNewEvents();
        } catch (error) {
          this.log.error({ err: error }, 'reading events failed');
          // The next notification reads the log, whatever it carries.
          this.catchUp = true;
        }
      } while (this.pumpAgain && !this.stopped);
    })().finally(() => {
      this.pumping = undefined;
    });
  }

  private async deliverNewEvents() {
    for (;;) {
      // Ids are consecutive (one counter, locked until commit): the next event is the one
      // after the last delivered, carried by its notification or else read from the log.
      const next = (BigInt(this.lastDelivered) + 1n).toString();
      const noticed = this.noticed.get(next);
      if (noticed) {
        this.noticed.delete(next);
        this.lastDelivered = next;
        await this.broadcast({ kind: 'event', event: noticed });
        continue;
      }
      // Nothing more was notified, and nothing can have been missed: no read.
      if (!this.catchUp && BigInt(this.lastDelivered) >= this.notifiedUpTo) break;
      this.catchUp = false;
      const events = await readEventsAfter(this.db, this.lastDelivered, 1000);
      for (const event of events) {
        this.lastDelivered = event.id;
        this.noticed.delete(event.id);
        await this.broadcast({ kind: 'event', event });
      }
      if (events.length < 1000) break;
      // A full page: the log may hold more than anyone notified (a catch-up), so read on.
      this.catchUp = true;
    }
    // Whatever a notification carried that the log already gave is done with.
    const last = BigInt(this.lastDelivered);
    for (const id of this.noticed.keys()) if (BigInt(id) <= last) this.noticed.delete(id);
  }

  /**
   * Serves the subscribers a chunk at a time, yielding to the event loop in between. Each
   * subscriber's way to its socket is a chain of promise steps; started for all at once, the
   * chains advance breadth-first and the first board is written only when nearly all the work
   * is done (about 10 ms into a 1,000-board fan-out, bench/board-latency.ts). Chunked, a
   * chunk's frames leave before the next chunk starts, and other sockets get a turn.
   * Callers await it, so each subscriber still gets events in order. A subscriber added after
   * the list is taken misses nothing: the event is committed, and a new subscriber reads the
   * log after subscribing.
   */
  private async broadcast(message: FeedMessage) {
    const listeners = [...this.listeners];
    for (let start = 0; start < listeners.length; start += fanOutChunk) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const listener of listeners.slice(start, start + fanOutChunk)) listener(message);
    }
  }
}
