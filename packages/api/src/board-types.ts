import type { BedStatus } from '@medaxis/domain';

/**
 * What a board shows of one bed: minimal by design (DESIGN.md "Live board path" 4). No patient
 * identity; `initials` stays null until policy allows it (security issue).
 */
export interface BoardBed {
  id: number;
  code: string;
  roomCode: string;
  departmentCode: string;
  status: BedStatus;
  /** ISO instant the current status began: drives the cleaning/blocked/waiting timers. */
  since: string;
  /** Why a bed is blocked (closed, contaminated, maintenance...). */
  reason: string | null;
  isolation: boolean;
  initials: string | null;
  /** For occupied beds: the encounter's expected discharge (a pending discharge when due). */
  expectedDischargeAt: string | null;
  /** For occupied ED beds: when admission was decided; set means the patient is boarding. */
  admitDecisionAt: string | null;
}

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
