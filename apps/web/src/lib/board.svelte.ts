import type { BoardDepartment, BoardMessage, BoardSnapshot } from '@medaxis/api';

import { applyBoardEvent, indexBeds, type BedLocation } from './board-data.ts';
import { errorCode, type BoardApi, type Unsubscribe } from './board-api.ts';
import { connectionAt, resubscribeAfterMs, type Connection } from './connection.ts';
import {
  computeDepartmentFigures,
  computeFigures,
  type BedFigures,
  type FigureContext,
} from './figures.ts';
import { dateKey } from './time.ts';

/** Least time between two snapshot reloads caused by beds added since the snapshot. */
const resyncIntervalMs = 60_000;

/** Retry delays for loading the snapshot: quick at first, then every 15 s. */
function retryDelayMs(attempt: number): number {
  return Math.min(1_000 * 2 ** attempt, 15_000);
}

/**
 * How often a board the server refuses, or whose department it does not know, asks again. The
 * answer will not change by itself, so not in a loop; but a display set up for a department an
 * admin later renames, restores or grants recovers without a touch.
 */
export const unavailableRecheckMs = 5 * 60_000;

/** Why the server will not show this board: not a failure, an answer that waits on a person. */
export type Unavailable = 'forbidden' | 'not_found';

/**
 * The live state of one wall display: the snapshot, kept current by the event stream.
 *
 * It runs unattended for days, so it holds no list that grows: each event replaces the beds it
 * touched, and every timer on the board reads the one clock (`now`) advanced each second.
 */
export class BoardState {
  readonly department: string | undefined;

  site = $state.raw<BoardSnapshot['site'] | null>(null);
  departments = $state.raw<readonly BoardDepartment[]>([]);
  /** Id of the last event applied (or the snapshot's): the stream resumes after it. */
  lastEventId = $state.raw<string | null>(null);
  /** Client clock (ms) of the last snapshot, event, heartbeat or subscription start. */
  lastHeardAt = $state.raw<number | null>(null);
  socketOpen = $state.raw(false);
  /** Client clock, advanced once a second. */
  now = $state.raw(Date.now());
  /** Server clock minus client clock: a wall PC's clock drifts, the server's is the reference. */
  clockSkewMs = $state.raw(0);
  /** Why the board cannot load, shown in the banner; null when all is well. */
  problem = $state.raw<string | null>(null);
  /** Set while the server refuses this board or knows no such department; null otherwise. */
  unavailable = $state.raw<Unavailable | null>(null);
  /** Since this page loaded: lets a test see that a replay applied each event exactly once. */
  eventsApplied = $state.raw(0);
  eventsIgnored = $state.raw(0);

  connection: Connection = $derived(
    connectionAt({
      loaded: this.site !== null,
      socketOpen: this.socketOpen,
      lastHeardAt: this.lastHeardAt,
      now: this.now,
    }),
  );
  /** The server's time now, for the clock and the bed timers. */
  serverNow = $derived(this.now + this.clockSkewMs);
  /** Changes once a day; figures depending on it recompute only then or when beds change. */
  today = $derived(this.site ? dateKey(this.serverNow, this.site.timeZone) : '');
  figureContext: FigureContext = $derived({
    today: this.today,
    timeZone: this.site?.timeZone ?? 'UTC',
  });
  figures: BedFigures = $derived(computeFigures(this.departments, this.figureContext));
  departmentFigures: ReadonlyMap<number, BedFigures> = $derived(
    // Built anew whenever beds change and never mutated: no SvelteMap needed.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    new Map(this.departments.map((d) => [d.id, computeDepartmentFigures(d, this.figureContext)])),
  );

  readonly #api: BoardApi;
  /** Where each bed is in `departments`: not state (nothing renders it), replaced whole. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #index: ReadonlyMap<number, BedLocation> = new Map();
  #ticker: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #loadAttempt = 0;
  #lastSubscribedAt = 0;
  #lastResyncAt = 0;
  #unsubscribe: Unsubscribe | null = null;
  #unwatchSocket: Unsubscribe | null = null;
  #running = false;

  readonly #onSignedOut: (() => void) | undefined;

  /**
   * `onSignedOut` runs when the server no longer knows this browser (session ended, device
   * token revoked or expired): the board then stops retrying and hands over, to sign-in.
   */
  constructor(api: BoardApi, department?: string, options: { onSignedOut?: () => void } = {}) {
    this.#api = api;
    this.department = department;
    this.#onSignedOut = options.onSignedOut;
  }

  /** Loads the snapshot, subscribes, starts the clock. Returns `stop`, for `$effect`/`onMount`. */
  start(): () => void {
    if (this.#running) return () => this.stop();
    this.#running = true;

    this.#unwatchSocket = this.#api.onSocketChange((open) => {
      this.socketOpen = open;
    });
    this.#ticker = setInterval(() => this.#tick(), 1_000);
    void this.#load();

    return () => this.stop();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;

    clearInterval(this.#ticker);
    clearTimeout(this.#retryTimer);
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#unwatchSocket?.();
    this.#unwatchSocket = null;
    this.#api.close();
  }

  /** Applies one message from the stream. Public so tests can drive the board directly. */
  receive(message: BoardMessage, receivedAt = Date.now()): void {
    this.lastHeardAt = receivedAt;

    switch (message.kind) {
      case 'heartbeat':
        this.clockSkewMs = Date.parse(message.serverTime) - receivedAt;
        break;
      case 'event': {
        const outcome = applyBoardEvent(this.departments, this.#index, this.lastEventId, message);
        if (outcome.applied) {
          this.departments = outcome.departments;
          this.lastEventId = outcome.lastEventId;
          this.eventsApplied += 1;
          // The server sends a board only its own beds: one it has never seen was added since
          // the snapshot, and only a new snapshot places it in its room.
          if (message.beds.some((bed) => !this.#index.has(bed.id))) this.#resyncForNewBeds();
        } else {
          this.eventsIgnored += 1;
        }
        break;
      }
    }
  }

  /** Replaces the whole board with a snapshot. */
  applySnapshot(snapshot: BoardSnapshot, receivedAt = Date.now()): void {
    this.#index = indexBeds(snapshot.departments);
    this.site = snapshot.site;
    this.departments = snapshot.departments;
    this.lastEventId = snapshot.lastEventId;
    this.lastHeardAt = receivedAt;
    this.clockSkewMs = Date.parse(snapshot.serverTime) - receivedAt;
    this.problem = null;
    this.unavailable = null;
  }

  async #load(): Promise<void> {
    this.#retryTimer = undefined;
    try {
      const snapshot = await this.#api.snapshot(
        this.department === undefined ? {} : { department: this.department },
      );
      if (!this.#running) return;

      this.applySnapshot(snapshot);
      this.#loadAttempt = 0;
      this.#subscribe();
    } catch (error) {
      if (!this.#running) return;

      if (errorCode(error) === 'UNAUTHORIZED' && this.#onSignedOut) {
        this.problem = 'Signed out';
        this.stop();
        this.#onSignedOut();
        return;
      }
      const code = errorCode(error);
      if (code === 'FORBIDDEN' || code === 'NOT_FOUND') {
        this.#showUnavailable(code === 'FORBIDDEN' ? 'forbidden' : 'not_found');
        return;
      }
      this.problem = 'Cannot load the board from the server';
      this.#retryLoad();
    }
  }

  /** Empties the board (what it showed is no longer this viewer's) and asks again, rarely. */
  #showUnavailable(reason: Unavailable): void {
    this.unavailable = reason;
    this.problem = null;
    this.site = null;
    this.departments = [];
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see #index
    this.#index = new Map();
    this.lastEventId = null;
    this.#loadAttempt = 0;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#load(), unavailableRecheckMs);
  }

  #resyncForNewBeds(): void {
    const now = Date.now();
    // At most once a minute, so a bed that never makes it into a snapshot cannot loop us.
    if (now - this.#lastResyncAt < resyncIntervalMs || this.#retryTimer !== undefined) return;
    this.#lastResyncAt = now;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    void this.#load();
  }

  #retryLoad(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#load(), retryDelayMs(this.#loadAttempt));
    this.#loadAttempt += 1;
  }

  #subscribe(): void {
    this.#unsubscribe?.();
    this.#lastSubscribedAt = Date.now();
    this.#unsubscribe = this.#api.events(
      {
        // The snapshot's code: the server matched the address's code whatever its case.
        ...(this.department === undefined
          ? {}
          : { department: this.departments[0]?.code ?? this.department }),
        lastEventId: this.lastEventId,
      },
      {
        onStarted: () => {
          this.lastHeardAt = Date.now();
        },
        onMessage: (message) => this.receive(message),
        // The server refused the stream (not a dropped socket: the stream resumes those
        // itself). Start over from a fresh snapshot so the board cannot drift.
        onError: () => {
          this.#unsubscribe?.();
          this.#unsubscribe = null;
          this.#retryLoad();
        },
      },
    );
  }

  #tick(): void {
    this.now = Date.now();

    // An open socket that stays silent past several heartbeats: the stream may have died on
    // the server side. Subscribing again from the last applied id loses and repeats nothing.
    const silentFor = this.lastHeardAt === null ? 0 : this.now - this.lastHeardAt;
    if (
      this.#unsubscribe !== null &&
      this.socketOpen &&
      silentFor > resubscribeAfterMs &&
      this.now - this.#lastSubscribedAt > resubscribeAfterMs
    ) {
      this.#subscribe();
    }
  }
}
