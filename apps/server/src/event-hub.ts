import { eventChannel, lastEventId, readEventsAfter, type Db } from '@medaxis/db';
import type { EventFeed, FeedMessage } from '@medaxis/api';
import pg from 'pg';
import type { FastifyBaseLogger as Logger } from 'fastify';

const heartbeatMs = 5_000;
const reconnectMs = 1_000;
/** Subscribers served per turn of the event loop; see `broadcast`. */
const fanOutChunk = 64;

/**
 * One LISTEN connection per server instance, fanned out to every subscriber of the instance.
 * A notification carries only an event id; the hub reads every event after the last one it
 * delivered, so coalesced or lost notifications (while reconnecting) never lose an event, and
 * each event is read from the database once per instance however many boards watch.
 */
export class EventHub implements EventFeed {
  private readonly listeners = new Set<(message: FeedMessage) => void>();
  private client: pg.Client | undefined;
  private lastDelivered = '0';
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
    client.on('notification', () => this.pump());
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
        }
      } while (this.pumpAgain && !this.stopped);
    })().finally(() => {
      this.pumping = undefined;
    });
  }

  private async deliverNewEvents() {
    for (;;) {
      const events = await readEventsAfter(this.db, this.lastDelivered, 1000);
      for (const event of events) {
        this.lastDelivered = event.id;
        await this.broadcast({ kind: 'event', event });
      }
      if (events.length < 1000) return;
    }
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
