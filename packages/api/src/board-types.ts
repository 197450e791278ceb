import type { BoardBedRow } from '@medaxis/db';

import type { boardStreamClose } from './errors.ts';

/** What a board shows of one bed (defined beside the query that produces it). */
export type BoardBed = BoardBedRow;

export interface BoardRoom {
  code: string;
  beds: BoardBed[];
}

export interface BoardDepartment {
  id: number;
  code: string;
  name: string;
  kind: string;
  rooms: BoardRoom[];
}

export interface BoardSnapshot {
  site: { code: string; name: string; timeZone: string };
  departments: BoardDepartment[];
  /** Id of the last event included in this snapshot: subscribe from it to miss nothing. */
  lastEventId: string;
  serverTime: string;
}

/** One committed event as a board sees it: the new state of every bed it touched. */
export interface BoardEvent {
  kind: 'event';
  id: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  beds: BoardBed[];
}

/** Sent every few seconds on an idle stream, so a silent server looks stale, not calm. */
export interface BoardHeartbeat {
  kind: 'heartbeat';
  serverTime: string;
}

export type BoardMessage = BoardEvent | BoardHeartbeat;

/**
 * One frame of the board stream (`GET /board-stream`, wall displays), sent as JSON text. An
 * event frame carries the id outside the event too, so a client can skip one it already has
 * without looking inside.
 */
export type BoardStreamFrame = { kind: 'event'; id: string; event: BoardEvent } | BoardHeartbeat;

/** The board stream's close codes by name (values in packages/api `boardStreamClose`). */
export type BoardStreamCloseCodes = typeof boardStreamClose;
