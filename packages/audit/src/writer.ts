import { bind, prepared, queryPrepared, queryStatements, type Db, type Tx } from '@medaxis/db';

import { canonicalRow, chainHash, type AuditRecord } from './canonical.ts';
import { normalizeEvent, sortedUnique, type AuditEvent, type PendingRecord } from './event.ts';
import type { AuditMirror } from './mirror.ts';

export interface AuditWriterOptions {
  /** The JSON-lines copy for a SIEM (AUDIT_MIRROR), written after each commit. */
  mirror?: AuditMirror | undefined;
  /** Rows per flush at most; a larger queue takes several flushes back to back. */
  maxBatch?: number;
  now?: () => Date;
}

/** A committed audit row: its id and hash. */
export interface AuditReceipt {
  id: string;
  hash: Buffer;
}

interface Waiting {
  pending: PendingRecord;
  resolve: (receipt: AuditReceipt) => void;
  reject: (error: unknown) => void;
}

/**
 * The one audit writer of a process, with group commit: callers enqueue, and one transaction
 * at a time writes everything queued, so concurrent requests share one flush (and one WAL
 * sync) while each caller's promise resolves only after COMMIT, that is once its row is
 * durable. While a flush runs the queue fills; the next flush takes it all. Nothing waits for
 * a timer, so a lone request pays one round of the flush and no more.
 *
 * Each flush locks the chain head (audit_head), takes the next ids, chains the hashes and
 * inserts the rows in one statement, then moves the head: several server instances and the
 * worker append to one chain, one flush after another.
 */
export class AuditWriter {
  readonly #db: Db;
  readonly #mirror: AuditMirror | undefined;
  readonly #maxBatch: number;
  readonly #now: () => Date;
  #queue: Waiting[] = [];
  #flushing: Promise<void> | undefined;
  #deferredFailure: unknown;
  #closed = false;
  /** Flushes committed so far: with group commit, far fewer than rows under load. */
  flushes = 0;

  constructor(db: Db, options: AuditWriterOptions = {}) {
    this.#db = db;
    this.#mirror = options.mirror;
    this.#maxBatch = options.maxBatch ?? 5_000;
    this.#now = options.now ?? (() => new Date());
  }

  /** Records one event; resolves once its row is committed, rejects if it could not be. */
  record(event: AuditEvent): Promise<AuditReceipt> {
    return new Promise<AuditReceipt>((resolve, reject) => {
      if (this.#closed) throw new Error('audit writer is closed');
      this.#queue.push({ pending: normalizeEvent(event, this.#now()), resolve, reject });
      this.#kick();
    });
  }

  /**
   * Records an event without waiting for it: for batch sources (seed, simulator, imports)
   * that audit thousands of commands and need the rows durable at the end of the run, not
   * after each command. A failure is kept and thrown by the next `flush()`.
   */
  defer(event: AuditEvent): void {
    this.record(event).catch((error: unknown) => {
      this.#deferredFailure ??= error;
    });
  }

  /** Resolves when everything recorded so far is committed; throws a deferred failure. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const failure = this.#deferredFailure;
    this.#deferredFailure = undefined;
    if (failure !== undefined) {
      throw failure instanceof Error
        ? failure
        : new Error('audit write failed', { cause: failure });
    }
  }

  /** Flushes, then refuses further events. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = (async () => {
      // One microtask first: rows recorded in the same turn (a board stream's rows for every
      // display of an event) join this flush instead of waiting for the next.
      await Promise.resolve();
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const receipts = await this.#write(batch.map((waiting) => waiting.pending));
          batch.forEach((waiting, index) => waiting.resolve(receipts[index]!));
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    })().finally(() => {
      this.#flushing = undefined;
      // Events queued between the loop's last look and this point start the next flush.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #write(batch: readonly PendingRecord[]): Promise<AuditReceipt[]> {
    const client = await this.#db.connect();
    try {
      // BEGIN, the patients of the batch's encounters and the chain head's lock share one
      // round trip; the rows, the head's move and COMMIT the other.
      const encounterIds = [...new Set(batch.flatMap((pending) => pending.encounterIds))];
      const [, head, patients] = await queryStatements(client, [
        'BEGIN',
        bind(lockHead, []),
        ...(encounterIds.length > 0 ? [bind(readEncounterPatients, [encounterIds])] : []),
      ]);
      const records = withEncounterPatients(batch, patients?.rows ?? []);
      const rows = await appendAfterHead(client, head!.rows[0], records, ['COMMIT']);
      this.flushes++;
      this.#mirror?.rows(rows);
      return rows.map((row) => ({ id: row.id, hash: row.hash }));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

const readEncounterPatients = prepared(
  'audit_read_encounter_patients',
  `SELECT id::text AS id, patient_id::text AS "patientId"
     FROM encounter WHERE id = ANY($1::uuid[])`,
);

/** Adds the patients of the encounters events named (read for the whole batch at once). */
function withEncounterPatients(
  batch: readonly PendingRecord[],
  rows: readonly unknown[],
): Omit<AuditRecord, 'id'>[] {
  const patientOf = new Map(
    (rows as { id: string; patientId: string }[]).map((row) => [row.id, row.patientId]),
  );
  return batch.map(({ record, encounterIds: ids }) => {
    if (ids.length === 0) return record;
    const patients = ids.flatMap((id) => patientOf.get(id) ?? []);
    return { ...record, patientIds: sortedUnique([...record.patientIds, ...patients]) };
  });
}

/**
 * Appends records to the chain inside the caller's transaction: lock the head, number and
 * hash the rows in order, insert them, move the head. Exposed for the benchmark and tests;
 * services go through AuditWriter.
 */
export async function appendRecords(
  tx: Tx,
  records: readonly Omit<AuditRecord, 'id'>[],
): Promise<(AuditRecord & { hash: Buffer })[]> {
  const head = await queryPrepared(tx, lockHead, []);
  return appendAfterHead(tx, head.rows[0], records);
}

const lockHead = prepared(
  'audit_lock_head',
  `SELECT last_id::text AS "lastId", last_hash AS "lastHash"
     FROM audit_head WHERE id = 1 FOR UPDATE`,
);

/**
 * appendRecords once the head is locked and read: the rows and the head's move, with `then`
 * (the caller's COMMIT) in the same round trip.
 */
async function appendAfterHead(
  tx: Tx,
  headRow: unknown,
  records: readonly Omit<AuditRecord, 'id'>[],
  then: readonly string[] = [],
): Promise<(AuditRecord & { hash: Buffer })[]> {
  const head = headRow as { lastId: string; lastHash: Buffer };
  let id = BigInt(head.lastId);
  let previous = head.lastHash;
  const rows = records.map((record) => {
    id += 1n;
    const row = { id: id.toString(), ...record };
    previous = chainHash(previous, canonicalRow(row));
    return { ...row, hash: previous };
  });

  if (rows.length === 0) {
    await queryStatements(tx, then);
    return rows;
  }
  const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
  const append = bind(appendRows, [
    column((row) => row.id),
    column((row) => row.at),
    column((row) => row.source),
    column((row) => row.operation),
    column((row) => row.action),
    column((row) => row.actorKind),
    column((row) => row.actorId),
    // Per-row lists travel as array literals (one text each): unnest cannot take ragged
    // two-dimensional arrays.
    column((row) => arrayLiteral(row.roles)),
    column((row) => row.deviceId),
    column((row) => row.purpose),
    column((row) => row.resourceType),
    column((row) => row.resourceId),
    column((row) => arrayLiteral(row.patientIds)),
    column((row) => row.outcome),
    column((row) => row.reason),
    column((row) => row.requestId),
    column((row) => row.clientAddress),
    column((row) => row.hash),
    id.toString(),
    previous,
  ]);
  await queryStatements(tx, [append, ...then]);
  return rows;
}

const appendRows = prepared(
  'audit_append_rows',
  `WITH inserted AS (
     INSERT INTO audit_event (id, at, source, operation, action, actor_kind, actor_id, roles,
                              device_id, purpose, resource_type, resource_id, patient_ids,
                              outcome, reason, request_id, client_address, hash)
     SELECT id, at, source, operation, action, actor_kind, actor_id, roles::text[], device_id,
            purpose, resource_type, resource_id, patient_ids::uuid[], outcome, reason,
            request_id, client_address, hash
       FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                   $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                   $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                   $17::text[], $18::bytea[])
         AS r(id, at, source, operation, action, actor_kind, actor_id, roles, device_id,
              purpose, resource_type, resource_id, patient_ids, outcome, reason, request_id,
              client_address, hash))
     UPDATE audit_head SET last_id = $19, last_hash = $20 WHERE id = 1`,
);

/** A PostgreSQL array literal: every element double-quoted, `"` and `\` escaped. */
function arrayLiteral(values: readonly string[]): string {
  const quoted = values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`);
  return `{${quoted.join(',')}}`;
}

const writers = new WeakMap<Db, AuditWriter>();

/**
 * The process's one writer for a pool: the API, the sign-in routes, the HL7 listener and the
 * CLI all record through it, so their rows share flushes. Created on first use.
 */
export function auditWriterFor(db: Db, options?: AuditWriterOptions): AuditWriter {
  let writer = writers.get(db);
  if (!writer) {
    writer = new AuditWriter(db, options);
    writers.set(db, writer);
  }
  return writer;
}
