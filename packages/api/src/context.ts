import type { Db, EventRow } from '@medaxis/db';
import type { Actor, Permission, Purpose, Roles } from '@medaxis/policy';

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
  /** Roles and permissions from config/roles.json, loaded and checked at start-up. */
  roles: Roles;
  /** Who is asking; null when the request carries no valid session or device token. */
  actor: Actor | null;
  /** Purpose of use the client declared (header `x-purpose-of-use`), default treatment. */
  purpose: Purpose;
  clientAddress: string | null;
}

/** What the enforcement point grants a request, added to the context of every procedure. */
export interface Access {
  actor: Actor;
  permission: Permission;
  /** Department codes the actor may see under this permission, or '*' for all. */
  departments: readonly string[] | '*';
}

/** Every procedure declares the permission it needs; one without is unreachable. */
export interface ProcedureMeta {
  permission: Permission;
  /** Set on procedures that touch patient data: they are audited (security issue). */
  patientData?: 'read' | 'search' | 'export' | 'write';
}
