import {
  auditBoardRead,
  boardAccess,
  boardFeedQuery,
  BoardCursor,
  boardStreamClose,
  boardStreamCloseFor,
  presentBoardEvent,
  replayBoardEvents,
  resolveBoardView,
  type AuditSink,
  type BoardAccess,
  type BoardStreamFrame,
  type BoardView,
  type BoardWatcher,
  type EventFeed,
  type FeedMessage,
} from '@medaxis/api';
import type { Db, EventRow } from '@medaxis/db';
import { ErrorCode, isMedaxisError } from '@medaxis/domain';
import { type Actor, type ConsentPolicies, type Purpose, type Roles } from '@medaxis/policy';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { WebSocket } from 'ws';

import type { RequestAuth } from './auth/index.ts';

export interface BoardStreamOptions {
  /**
   * Unsent bytes a socket may hold (ws `bufferedAmount`) before the board is cut off and told
   * to resume: a display that cannot keep up costs the server this much at most.
   */
  maxBufferedBytes?: number;
  /** Live events a board may have waiting while its replay runs, with the same outcome. */
  maxPendingEvents?: number;
}

/** About 2,500 board events: minutes of a busy hospital, far more than a healthy link holds. */
const defaultMaxBufferedBytes = 1024 * 1024;
/** The same bound tRPC's `board.events` queue has (packages/api subscriber-queue.ts). */
const defaultMaxPendingEvents = 10_000;
/** A board told to resume that does not finish the close handshake in this time is dropped. */
const closeGraceMs = 10_000;
/** A replay whose socket writes nothing for this long is cut off like a slow live board. */
const stallMs = 10_000;
/** Every this many heartbeats (5 s each) a socket must have answered the previous ping. */
const heartbeatsPerPing = 6;
/** A text frame: a Buffer would otherwise go out as binary and reach browsers as a Blob. */
const textFrame = { binary: false } as const;

interface ViewFeed {
  view: BoardView;
  boards: Set<Board>;
}

interface PendingFrame {
  id: string;
  frame: Buffer;
  /** Whose initials the frame shows: audited when it is sent, if it is (the replay may have). */
  patients: readonly string[];
}

interface Board {
  /** The upgrade request's id, for logs. */
  connectionId: string;
  socket: WebSocket;
  feed: ViewFeed;
  /** Live frames that arrived while the replay ran; null once the board is live. */
  pending: PendingFrame[] | null;
  /**
   * The last event id the board was sent, set before its replay starts. The live feed checks
   * it too: an event the hub delivers late (after a LISTEN reconnect, or while this
   * instance's delivery of it is still under way) may already have come by replay.
   */
  cursor: BoardCursor | null;
  /** Who watches, as the audit rows of the initials the board shows name them. */
  watcher: BoardWatcher;
  /** Answered the last ping (or none was sent yet). */
  alive: boolean;
  released: boolean;
}

/**
 * Who may watch the board stream: the departments they may see and what they may see of the
 * patients (packages/api `boardAccess`, the same decision as tRPC's), for the actor of the
 * upgrade request's session cookie or device token, resolved as for tRPC
 * (auth/request-auth.ts); null refuses the socket. The socket is watched from then on, so it
 * closes when its session or device token ends.
 */
export async function authorizeBoardStream(
  request: FastifyRequest,
  socket: WebSocket,
  config: { roles: Roles; policies: ConsentPolicies },
  auth: Pick<RequestAuth, 'actorForSocket'>,
): Promise<(BoardAccess & { actor: Actor; purpose: Purpose }) | null> {
  const actor = await auth.actorForSocket(request.raw, socket);
  if (!actor) return null;
  const purpose = 'treatment';
  const access = boardAccess(config, actor, purpose, new Date());
  return access && { ...access, actor, purpose };
}

/**
 * The wall displays' live feed, `GET /board-stream?department=<code>&lastEventId=<id>`: the
 * same events as tRPC's `board.events` (the rules are shared, packages/api board-feed.ts)
 * without tRPC's per-subscriber work. Each committed event is encoded once per view (the whole
 * hospital, each watched department) and the same bytes go to every socket of that view.
 *
 * A socket naming a `lastEventId` first gets the events after it from the log, while the live
 * ones are held back; then the held ones above the last replayed id; then it is live. So each
 * event arrives once and in order, however a reconnect overlaps the live feed.
 */
export class BoardStream {
  readonly #views = new Map<string, ViewFeed>();
  readonly #maxBufferedBytes: number;
  readonly #maxPendingEvents: number;
  #boards = 0;
  #heartbeats = 0;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  /** Live events go out one after another: showing identity may need a read first. */
  #delivery: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly audit: AuditSink,
    private readonly feed: EventFeed,
    private readonly roles: Roles,
    private readonly policies: ConsentPolicies,
    private readonly log: FastifyBaseLogger,
    private readonly auth: Pick<RequestAuth, 'actorForSocket'>,
    options: BoardStreamOptions = {},
  ) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? defaultMaxBufferedBytes;
    this.#maxPendingEvents = options.maxPendingEvents ?? defaultMaxPendingEvents;
  }

  /** Boards connected to this instance, replaying or live. */
  get socketCount(): number {
    return this.#boards;
  }

  /** Takes one upgraded socket through validation, replay and on to the live feed. */
  async serve(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const connectionId = String(request.id);

    const query = boardFeedQuery.safeParse(request.query);
    if (!query.success) {
      const field = query.error.issues[0]?.path.join('.') || 'query';
      this.log.info({ connectionId, field }, 'board stream query refused');
      close(socket, boardStreamClose.invalidQuery, `invalid ${field}`);
      return;
    }
    const access = await authorizeBoardStream(
      request,
      socket,
      { roles: this.roles, policies: this.policies },
      this.auth,
    );
    if (access === null) {
      this.log.warn({ connectionId, clientAddress: request.ip }, 'board stream not authorized');
      close(socket, boardStreamClose.unauthorized, 'not allowed');
      return;
    }
    let view: BoardView;
    try {
      view = await resolveBoardView(
        this.db,
        query.data.department,
        access.departments,
        access.identity,
      );
    } catch (error) {
      this.#refuse(socket, connectionId, error);
      return;
    }
    if (socket.readyState !== WebSocket.OPEN || this.#stopped) return;

    // Held live frames from here on, before the log is read: nothing falls in between.
    const watcher: BoardWatcher = {
      actor: access.actor,
      purpose: access.purpose,
      requestId: connectionId,
      clientAddress: request.ip,
    };
    const board = this.#register(socket, connectionId, view, watcher);
    socket.on('close', () => this.#release(board));
    socket.on('pong', () => (board.alive = true));
    this.log.debug({ connectionId, view: view.key }, 'board stream opened');

    try {
      const cursor = await BoardCursor.resume(this.db, query.data.lastEventId);
      board.cursor = cursor;
      for await (const shown of replayBoardEvents(this.db, cursor, view)) {
        if (board.released) return;
        if (!shown) continue;
        // Initials leave once their read is audited (a failed write ends the replay: the
        // board reconnects and is owed the event still).
        await auditBoardRead(this.audit, watcher, 'board.stream', shown.patients);
        if (board.released) return;
        const { event } = shown;
        if (!(await this.#sendPaced(board, encode({ kind: 'event', id: event.id, event })))) return;
      }
      // Live frames keep arriving while a paced send waits: the loop takes them as they come.
      const pending = board.pending ?? [];
      for (let i = 0; i < pending.length; i++) {
        const { id, frame, patients } = pending[i]!;
        if (board.released) return;
        if (!cursor.advance(id)) continue;
        await auditBoardRead(this.audit, watcher, 'board.stream', patients);
        if (board.released) return;
        if (!(await this.#sendPaced(board, frame))) return;
      }
      if (board.released) return;
      board.pending = null;
    } catch (error) {
      if (board.released || this.#stopped) return;
      this.log.error({ err: error, connectionId }, 'board stream replay failed');
      this.#release(board);
      close(socket, boardStreamClose.internal, 'replay failed');
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const feed of this.#views.values()) {
      for (const board of feed.boards) this.#release(board);
    }
  }

  /** The event hub's listener: one encoding per view, the same bytes to each of its boards. */
  readonly #onFeed = (message: FeedMessage): void => {
    if (message.kind === 'heartbeat') {
      this.#heartbeat(message.at);
      return;
    }
    // Chained, so events leave in commit order even when a view waits for a read first.
    this.#delivery = this.#delivery.then(() => this.#deliver(message.event));
  };

  async #deliver(row: Omit<EventRow, 'departmentIds'>) {
    // Every view at once (reads and audit rows share their round trips and flushes), then
    // the frames, view by view. The boards each view's event goes to are fixed now: one that
    // opens while the reads run replays from the log, where it finds the event (and audits
    // it) itself. A board still replaying holds the frame and audits it if it sends it.
    const deliveries = [...this.#views.values()].map((feed) => {
      const boards = [...feed.boards];
      const shown = this.#present(row, feed.view, boards);
      // Handled below, in turn; until then a failure must not count as unhandled.
      shown.catch(() => {});
      return { feed, boards, shown };
    });
    for (const { feed, boards, shown } of deliveries) {
      let presented: Awaited<typeof shown>;
      try {
        presented = await shown;
        if (!presented) continue;
        // A board that finished its replay while the reads ran was not audited with the
        // others: it is now, before it is sent the frame.
        const audited = presented.audited;
        if (audited) {
          const late = boards.filter((board) => !board.pending && !audited.has(board));
          await this.#auditReads(late, presented.patients);
        }
      } catch (error) {
        // Skipping the event would lose it: the view's boards resume from the log instead.
        this.log.error({ err: error, eventId: row.id, view: feed.view.key }, 'board event failed');
        for (const board of boards) this.#cutOff(board);
        continue;
      }
      const { event, patients } = presented;
      const frame = encode({ kind: 'event', id: event.id, event });
      const id = BigInt(event.id);
      for (const board of boards) {
        if (board.released) continue;
        if (!board.pending) {
          if (board.cursor!.advanceTo(id)) this.#send(board, frame);
        } else if (board.pending.length < this.#maxPendingEvents) {
          board.pending.push({ id: event.id, frame, patients });
        } else {
          this.#cutOff(board);
        }
      }
    }
  }

  /**
   * The event as `view` shows it, once each live board's read of the initials in it is
   * committed; `audited` names those boards (a live board past the event is not one: it will
   * not be sent the frame), null when the event shows no initials.
   */
  async #present(row: Omit<EventRow, 'departmentIds'>, view: BoardView, boards: Board[]) {
    const shown = await presentBoardEvent(this.db, row, view);
    // Most events show nobody (a block, a bed being cleaned): nothing to audit, no per-board
    // work beyond the send itself.
    if (!shown || shown.patients.length === 0) return shown && { ...shown, audited: null };
    const id = BigInt(row.id);
    const live = boards.filter((board) => !board.pending && board.cursor!.last < id);
    await this.#auditReads(live, shown.patients);
    return { ...shown, audited: new Set(live) };
  }

  /** One audit row per board for the initials of `patients` it is shown (none if none). */
  async #auditReads(boards: readonly Board[], patients: readonly string[]) {
    if (patients.length === 0) return;
    await Promise.all(
      boards.map((board) => auditBoardRead(this.audit, board.watcher, 'board.stream', patients)),
    );
  }

  /**
   * One heartbeat frame for every board, replaying ones too (it carries no id). Every few
   * beats, a ping: a display gone without closing (power cut, cable) never answers, and is
   * dropped rather than kept until TCP gives up on it.
   */
  #heartbeat(at: Date) {
    const frame = encode({ kind: 'heartbeat', serverTime: at.toISOString() });
    const ping = ++this.#heartbeats % heartbeatsPerPing === 0;
    for (const feed of this.#views.values()) {
      for (const board of feed.boards) {
        if (ping && !board.alive) {
          this.log.info({ connectionId: board.connectionId }, 'board stream unanswered; dropped');
          this.#release(board);
          board.socket.terminate();
          continue;
        }
        this.#send(board, frame);
        if (ping && !board.released) {
          board.alive = false;
          board.socket.ping();
        }
      }
    }
  }

  /**
   * A replayed frame: one the board is owed, sent at the pace its link takes. Past the bound,
   * it waits until the frame is written out, and cuts the board off (false) when that stalls.
   */
  async #sendPaced(board: Board, frame: Buffer): Promise<boolean> {
    const socket = board.socket;
    if (socket.bufferedAmount <= this.#maxBufferedBytes) {
      socket.send(frame, textFrame);
      return true;
    }
    let stall: NodeJS.Timeout | undefined;
    const written = await Promise.race([
      new Promise<boolean>((resolve) => socket.send(frame, textFrame, (error) => resolve(!error))),
      new Promise<boolean>((resolve) => (stall = setTimeout(() => resolve(false), stallMs))),
    ]);
    clearTimeout(stall);
    if (!written) this.#cutOff(board);
    return written && !board.released;
  }

  #send(board: Board, frame: Buffer) {
    if (board.socket.bufferedAmount > this.#maxBufferedBytes) {
      this.#cutOff(board);
      return;
    }
    board.socket.send(frame, textFrame);
  }

  /**
   * A board that cannot keep up is closed with `fellBehind`: it reconnects and catches up from
   * the log instead of the server holding an ever-growing backlog for it. The close frame
   * follows what is already buffered, so the client still gets those events first.
   */
  #cutOff(board: Board) {
    if (board.released) return;
    this.log.warn(
      {
        connectionId: board.connectionId,
        bufferedBytes: board.socket.bufferedAmount,
        pendingEvents: board.pending?.length ?? 0,
      },
      'board fell behind; told to resume',
    );
    this.#release(board);
    close(board.socket, boardStreamClose.fellBehind, 'fell behind: reconnect and resume');
    const drop = setTimeout(() => board.socket.terminate(), closeGraceMs);
    drop.unref();
    board.socket.once('close', () => clearTimeout(drop));
  }

  #refuse(socket: WebSocket, connectionId: string, error: unknown) {
    if (!isMedaxisError(error)) {
      this.log.error({ err: error, connectionId }, 'board stream failed to open');
      close(socket, boardStreamClose.internal, 'server error');
      return;
    }
    // Refusals on access say little to the client; the log has the reason.
    const quiet = error.code === ErrorCode.forbidden || error.code === ErrorCode.unauthorized;
    this.log.info({ connectionId, code: error.code, reason: error.reason }, 'board stream refused');
    close(socket, boardStreamCloseFor[error.code], quiet ? 'not allowed' : error.message);
  }

  #register(
    socket: WebSocket,
    connectionId: string,
    view: BoardView,
    watcher: BoardWatcher,
  ): Board {
    let feed = this.#views.get(view.key);
    if (!feed) {
      feed = { view, boards: new Set() };
      this.#views.set(view.key, feed);
    }
    const board: Board = {
      connectionId,
      socket,
      feed,
      pending: [],
      cursor: null,
      watcher,
      alive: true,
      released: false,
    };
    feed.boards.add(board);
    this.#boards += 1;
    // Listen only while someone watches: an idle instance adds nothing to the hub.
    this.#unsubscribe ??= this.feed.subscribe(this.#onFeed);
    return board;
  }

  #release(board: Board) {
    if (board.released) return;
    board.released = true;
    board.pending = null;
    board.feed.boards.delete(board);
    if (board.feed.boards.size === 0) this.#views.delete(board.feed.view.key);
    this.#boards -= 1;
    if (this.#boards === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
  }
}

/**
 * Serves the board stream on `app` (which has @fastify/websocket registered) and stops it with
 * the server.
 */
export function registerBoardStream(
  app: FastifyInstance,
  deps: {
    db: Db;
    audit: AuditSink;
    feed: EventFeed;
    roles: Roles;
    policies: ConsentPolicies;
    log: FastifyBaseLogger;
    auth: Pick<RequestAuth, 'actorForSocket'>;
  },
  options: BoardStreamOptions = {},
): BoardStream {
  const stream = new BoardStream(
    deps.db,
    deps.audit,
    deps.feed,
    deps.roles,
    deps.policies,
    deps.log,
    deps.auth,
    options,
  );
  app.get('/board-stream', { websocket: true }, (socket, request) => stream.serve(socket, request));
  app.addHook('onClose', (_instance, done) => {
    stream.stop();
    done();
  });
  return stream;
}

function encode(frame: BoardStreamFrame): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

/** RFC 6455 allows 123 bytes of close reason. */
function close(socket: WebSocket, code: number, reason: string) {
  socket.close(code, Buffer.from(reason).subarray(0, 123));
}
