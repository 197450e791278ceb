import type { AuditEvent } from '@medaxis/audit';
import type { AuditLogger } from '@medaxis/auth';
import type { Db, EventRow } from '@medaxis/db';
import type {
  AccessGranted,
  Actor,
  ConsentPolicies,
  FieldMask,
  Permission,
  Purpose,
  Roles,
  RowFilter,
} from '@medaxis/policy';

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

/** Where the enforcement point records its audit rows: packages/audit's AuditWriter fits. */
export interface AuditSink {
  /** Resolves once the row is committed; the response waits for it. */
  record(event: AuditEvent): Promise<unknown>;
}

export interface Context {
  db: Db;
  audit: AuditSink;
  feed: EventFeed;
  requestId: string;
  now: () => Date;
  /** Roles and permissions from config/roles.json, loaded and checked at start-up. */
  roles: Roles;
  /** config/consent_policies.json, loaded and checked against the roles at start-up. */
  policies: ConsentPolicies;
  /** Who is asking; null when the request carries no valid session or device token. */
  actor: Actor | null;
  /** Purpose of use the client declared (header `x-purpose-of-use`), default treatment. */
  purpose: Purpose;
  clientAddress: string | null;
  /**
   * The request's logger, for the auth audit hook (packages/auth audit-hook.ts) until the audit
   * log records those events itself; without it they go to stderr.
   */
  log?: AuditLogger;
}

/** What the enforcement point grants a request, added to the context of every procedure. */
export interface Access {
  actor: Actor;
  permission: Permission;
  /** Department codes the actor may see under this permission, or '*' for all. */
  departments: readonly string[] | '*';
  /** The purpose of use the request was granted under: what the audit trail records. */
  purpose: Purpose;
  /** Which patients the request may see; patient repository functions require it. */
  filter: RowFilter;
  /** Which identity fields of those patients it may see. */
  mask: FieldMask;
  /** A break-glass override is in effect: what only it reveals is flagged for review. */
  breakGlass: boolean;
  /** The whole decision, for what filter and mask alone do not say (board initials). */
  decision: AccessGranted;
  /**
   * The patients the call read or wrote, as procedures report them (`touch`), for the audit
   * row of a `patientData` procedure; `breakGlassPatients` are those only an override revealed.
   */
  touched: ReadonlySet<string>;
  breakGlassPatients: ReadonlySet<string>;
  touch(patientIds: Iterable<string>, options?: { breakGlass?: boolean }): void;
  /**
   * Marks the call as refused for these patients (a consent restriction, a department out of
   * scope) although the answer the client gets is a plain NOT_FOUND or FORBIDDEN: the audit
   * row then says `denied` with this reason, for the compliance officer's denial report.
   */
  deny(patientIds: Iterable<string>, reason: string): void;
  /** Encounters a command wrote: the audit row names their patients (resolved when written). */
  touchEncounters(encounterIds: Iterable<string>): void;
  readonly denial: string | null;
}

/** Every procedure declares the permission it needs; one without is unreachable. */
export interface ProcedureMeta {
  permission: Permission;
  /** Set on procedures that touch patient data: they are audited (security issue). */
  patientData?: 'read' | 'search' | 'export' | 'write';
  /** What the audit row names as the resource: `patient` unless said (`audit_log`, …). */
  resourceType?: string;
}
