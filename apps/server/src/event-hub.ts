import { eventChannel, lastEventId, readEventsAfter, type Db } from '@medaxis/db';
import type { EventFeed, FeedMessage } from '@medaxis/api';
import pg from 'pg';
import type { FastifyBaseLogger as Logger } from 'fastify';

const heartbeatMs = 5_000;
const reconnectMs = 1_000;

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
      () => this.broadcast({ kind: 'heartbeat', at: new Date() }),
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
        this.broadcast({ kind: 'event', event });
      }
      if (events.length < 1000) return;
    }
  }

  private broadcast(message: FeedMessage) {
    for (const listener of this.listeners) listener(message);
  }
}
