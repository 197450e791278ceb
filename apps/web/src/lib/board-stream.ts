import type { BoardMessage, BoardStreamCloseCodes, BoardStreamFrame } from '@medaxis/api';

import { isNewerEvent } from './board-data.ts';

/** The server's close codes (packages/api `boardStreamClose`); the type keeps them equal. */
export const closeCodes: BoardStreamCloseCodes = {
  invalidQuery: 1008,
  internal: 1011,
  fellBehind: 4001,
  unauthorized: 4401,
  forbidden: 4403,
  notFound: 4404,
};

/** Closes after which reconnecting cannot help: the board reloads its snapshot instead. */
const refusals: ReadonlySet<number> = new Set([
  closeCodes.invalidQuery,
  closeCodes.unauthorized,
  closeCodes.forbidden,
  closeCodes.notFound,
]);

/** Reconnect quickly but not in a storm: 0.5 s, 1 s, 2 s … capped at 5 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 5_000);
}

/** The part of a browser WebSocket the stream uses, so tests can hand it a fake. */
export interface StreamSocket {
  onopen: ((event: Event) => unknown) | null;
  onmessage: ((event: MessageEvent) => unknown) | null;
  onclose: ((event: CloseEvent) => unknown) | null;
  close(code?: number, reason?: string): void;
}

export interface BoardStreamHandlers {
  /** The socket opened: the server is listening for us (again). */
  onStarted(): void;
  onMessage(message: BoardMessage): void;
  /** The server refused the stream (bad query, unknown department, not allowed). */
  onError(error: Error): void;
}

export class BoardStreamRefused extends Error {
  override readonly name = 'BoardStreamRefused';

  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(reason || `board stream closed with ${code}`);
  }
}

export interface BoardStreamOptions {
  /** The stream's URL for a resume point (null: from now on). */
  url(lastEventId: string | null): string;
  /** The id of the last event the board already has, usually its snapshot's. */
  lastEventId: string | null;
  handlers: BoardStreamHandlers;
  /** True when a socket opens, false when one drops (not when `close` ends it). */
  onSocketChange(open: boolean): void;
  openSocket?: (url: string) => StreamSocket;
}

/**
 * One board's connection to `/board-stream`, kept up for as long as the board runs: it
 * reconnects by itself after a drop and resumes after the last event it passed on, so the
 * board gets each event once and in order. An event at or below that id (a replay overlapping
 * what already came) is dropped here.
 */
export class BoardStream {
  readonly #options: BoardStreamOptions;
  readonly #openSocket: (url: string) => StreamSocket;
  #lastEventId: string | null;
  #socket: StreamSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #closed = false;

  constructor(options: BoardStreamOptions) {
    this.#options = options;
    this.#openSocket = options.openSocket ?? ((url) => new WebSocket(url));
    this.#lastEventId = options.lastEventId;
    this.#connect();
  }

  /** The id of the last event passed on: where the next connection resumes. */
  get lastEventId(): string | null {
    return this.#lastEventId;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
  }

  #connect(): void {
    this.#retryTimer = undefined;
    const socket = this.#openSocket(this.#options.url(this.#lastEventId));
    this.#socket = socket;
    socket.onopen = () => {
      this.#options.onSocketChange(true);
      this.#options.handlers.onStarted();
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#dropped(event.code, event.reason);
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    const frame = JSON.parse(data) as BoardStreamFrame;
    // The server is answering: the next drop starts the backoff from the beginning.
    this.#attempt = 0;

    switch (frame.kind) {
      case 'heartbeat':
        this.#options.handlers.onMessage(frame);
        break;
      case 'event':
        if (!isNewerEvent(frame.id, this.#lastEventId)) return;
        this.#lastEventId = frame.id;
        this.#options.handlers.onMessage(frame.event);
        break;
    }
  }

  #dropped(code: number, reason: string): void {
    this.#socket = null;
    if (this.#closed) return;
    this.#options.onSocketChange(false);

    if (refusals.has(code)) {
      this.#options.handlers.onError(new BoardStreamRefused(code, reason));
      return;
    }
    // Cut off for falling behind: the server is fine, catch up from the log right away.
    const delay = code === closeCodes.fellBehind ? 0 : reconnectDelayMs(this.#attempt++);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
