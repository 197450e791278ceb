import { hash } from 'node:crypto';

import type { Tx } from '@medaxis/db';
import { to as copyTo } from 'pg-copy-streams';

import { readBinaryCopy, type BinaryTuple } from './binary-copy.ts';
import { BinaryRowHasher, hashField, rowColumns, sameBytes } from './binary-row.ts';
import { canonicalRow, chainHash, type AuditRecord } from './canonical.ts';

/** What can be wrong with the log, each at a position (row id) or a seal entry. */
export const problemCodes = [
  /** The row's stored hash is not sha256(previous hash ‖ its canonical form). */
  'hash_mismatch',
  /** No row, summary or retention entry accounts for this id. */
  'missing_row',
  /** Two rows (live or summarized) claim one id. */
  'duplicate_row',
  /** A row where the log must have none: beyond the head, or in a segment retention removed. */
  'unexpected_row',
  /** A segment's rows do not give the root or the last hash its seal recorded. */
  'seal_mismatch',
  /** A seal chain entry is out of order, misnumbered, or its hash does not chain. */
  'seal_chain_broken',
  /** Retention removed a segment before the policy it names allowed. */
  'retention_too_early',
  /** The chain head does not name the last row and its hash. */
  'head_mismatch',
] as const;
export type ProblemCode = (typeof problemCodes)[number];

export interface AuditProblem {
  code: ProblemCode;
  /** The row id (position in the chain) where it shows, when it is about a row. */
  id?: string;
  /** The seal entry (seq) it is about, when it is about a seal. */
  seal?: string;
  message: string;
}

/** A stretch of the chain that a seal covers, or that a seal is about to cover. */
export interface Segment {
  seq: string | null;
  firstId: number;
  lastId: number;
  /** Recorded by the seal; null for a segment being sealed (the walk computes them). */
  root: Buffer | null;
  lastHash: Buffer | null;
  /** Retention removed its rows: the chain continues from `lastHash`. */
  pruned: boolean;
  /** Compaction replaced some of its rows by summaries, to be expanded. */
  compacted: boolean;
}

export interface WalkResult {
  /** The hash after the last position walked. */
  lastHash: Buffer;
  /** Per walked segment: sha256 over its row hashes, and the chain hash at its end. */
  computed: Map<Segment, { root: Buffer; lastHash: Buffer }>;
  live: number;
  compacted: number;
  pruned: number;
}

/** A row rebuilt from a summary: its id and canonical bytes. */
interface Expanded {
  id: number;
  canonical: Buffer;
}

/**
 * Walks the chain over positions [from, to] in id order: live rows streamed by binary COPY,
 * summarized rows rebuilt from audit_summary, segments removed by retention skipped (the
 * chain resumes from their seal's last hash). Every live row's hash is recomputed from the
 * hash before it; a summarized row's hash is computed, since compaction keeps everything the
 * canonical row holds. At each segment's end the root and last hash are compared with its
 * seal (or returned, for a segment being sealed). Problems go to `report`, in position order.
 * Runs on `client` (COPY) and `side` (summaries), which must be two connections.
 */
export async function walkChain(
  client: Tx,
  side: Tx,
  options: {
    from: number;
    to: number;
    previous: Buffer;
    segments: readonly Segment[];
    report: (problem: AuditProblem) => void;
    /**
     * Rebuild every summarized row before streaming, so `side` may be `client` itself (the
     * compaction job checks its own uncommitted work in its transaction).
     */
    preload?: boolean;
  },
): Promise<WalkResult> {
  const walk = new Walk(side, options);
  if (options.preload) await walk.preload();
  const stream = client.query(
    copyTo(
      `COPY (SELECT ${rowColumns.join(', ')} FROM audit_event
              WHERE id BETWEEN ${options.from} AND ${options.to} ORDER BY id)
         TO STDOUT (FORMAT binary)`,
    ),
  );
  await readBinaryCopy(stream, rowColumns.length, (tuple) => walk.live(tuple));
  await walk.finish();
  return walk.result();
}

class Walk {
  readonly #hasher = new BinaryRowHasher();
  readonly #side: Tx;
  readonly #segments: readonly Segment[];
  readonly #report: (problem: AuditProblem) => void;
  readonly #to: number;
  #next: number;
  /** The hash the next position chains from; `#own` holds it when a row gave it. */
  #previous: Buffer;
  readonly #own = Buffer.alloc(32);
  #segmentIndex = 0;
  /** The current segment's row hashes back to back: its root is their sha256. */
  #rowHashes = Buffer.alloc(32 * 1024);
  #rowHashesLength = 0;
  #expanded = new Map<number, Expanded>();
  /** Compacted segments whose summaries the walk has yet to expand, in id order. */
  readonly #unexpanded: Segment[];
  /** Summaries fetched ahead of the walk (preload), by segment. */
  readonly #fetched = new Map<Segment, AuditRecord[]>();
  readonly #computed = new Map<Segment, { root: Buffer; lastHash: Buffer }>();
  #counts = { live: 0, compacted: 0, pruned: 0 };

  constructor(
    side: Tx,
    options: {
      from: number;
      to: number;
      previous: Buffer;
      segments: readonly Segment[];
      report: (problem: AuditProblem) => void;
    },
  ) {
    this.#side = side;
    this.#segments = options.segments;
    this.#report = options.report;
    this.#to = options.to;
    this.#next = options.from;
    this.#previous = options.previous;
    while (this.#segment && this.#segment.lastId < options.from) this.#segmentIndex++;
    this.#unexpanded = options.segments.filter(
      (segment) =>
        segment.compacted &&
        !segment.pruned &&
        segment.lastId >= options.from &&
        segment.firstId <= options.to,
    );
  }

  get #segment(): Segment | undefined {
    return this.#segments[this.#segmentIndex];
  }

  /** Handles one live row; returns a promise only when summaries must be loaded first. */
  live(tuple: BinaryTuple): void | Promise<void> {
    const id = tuple.int8(0);
    if (this.#needsExpand(id)) return this.#expandThrough(id).then(() => this.#live(tuple, id));
    this.#live(tuple, id);
  }

  /** Fetches every summarized row of the walk now, so `side` may be the COPY's connection. */
  async preload(): Promise<void> {
    for (const segment of this.#unexpanded) {
      this.#fetched.set(segment, await loadSummarizedRows(this.#side, segment.seq!));
    }
  }

  async finish(): Promise<void> {
    if (this.#needsExpand(this.#to)) await this.#expandThrough(this.#to);
    this.#advanceTo(this.#to + 1);
  }

  result(): WalkResult {
    return { lastHash: Buffer.from(this.#previous), computed: this.#computed, ...this.#counts };
  }

  #live(tuple: BinaryTuple, id: number): void {
    if (id < this.#next) {
      this.#problem('duplicate_row', id, `row ${id} appears twice`);
      return;
    }
    this.#advanceTo(id);
    const segment = this.#segment;
    if (segment?.pruned && id >= segment.firstId) {
      this.#problem('unexpected_row', id, `row ${id} lies in a segment retention removed`);
      return;
    }
    if (this.#expanded.delete(id)) {
      this.#problem('duplicate_row', id, `row ${id} is both in the log and in a summary`);
    }
    const stored = tuple.bytes(hashField);
    if (!sameBytes(this.#hasher.digest(this.#previous, tuple), stored)) {
      this.#problem(
        'hash_mismatch',
        id,
        `row ${id} does not match its hash: it, or the row before it, was changed`,
      );
    }
    // Continue from the stored hash, so one changed row is reported once, not for every
    // row after it.
    this.#accept(stored);
    this.#counts.live++;
  }

  /** Walks the positions before `id` that no live row holds: summaries, pruned or missing. */
  #advanceTo(id: number): void {
    while (this.#next < id) {
      const segment = this.#segment;
      if (segment?.pruned && this.#next >= segment.firstId) {
        const end = Math.min(segment.lastId, id - 1);
        this.#counts.pruned += end - this.#next + 1;
        this.#next = end + 1;
        if (this.#next > segment.lastId) this.#endSegment(segment);
        continue;
      }
      const expanded = this.#expanded.get(this.#next);
      if (expanded) {
        this.#expanded.delete(this.#next);
        this.#accept(chainHash(this.#previous, expanded.canonical));
        this.#counts.compacted++;
        continue;
      }
      if (this.#next > this.#to) {
        // Past the walked range (a row beyond the head): reported by the caller.
        this.#next = id;
        return;
      }
      this.#problem('missing_row', this.#next, `row ${this.#next} is missing`);
      // Without the row its hash is unknown; the next row will not match either, and is
      // reported too, which is the best the chain can say.
      this.#skip();
    }
  }

  /** Takes `rowHash` as the hash at #next (copied: a row's bytes last only its callback). */
  #accept(rowHash: Uint8Array): void {
    if (rowHash.length === this.#own.length) {
      this.#own.set(rowHash);
      this.#previous = this.#own;
    } else {
      this.#previous = Buffer.from(rowHash);
    }
    const segment = this.#segment;
    if (segment && this.#next >= segment.firstId) this.#pushRowHash(rowHash);
    this.#next++;
    if (segment && this.#next > segment.lastId) this.#endSegment(segment);
  }

  #skip(): void {
    const segment = this.#segment;
    this.#next++;
    if (segment && this.#next > segment.lastId) this.#endSegment(segment);
  }

  #pushRowHash(rowHash: Uint8Array): void {
    const length = this.#rowHashesLength + rowHash.length;
    if (length > this.#rowHashes.length) {
      const grown = Buffer.alloc(Math.max(length, this.#rowHashes.length * 2));
      this.#rowHashes.copy(grown, 0, 0, this.#rowHashesLength);
      this.#rowHashes = grown;
    }
    this.#rowHashes.set(rowHash, this.#rowHashesLength);
    this.#rowHashesLength = length;
  }

  #endSegment(segment: Segment): void {
    if (!segment.pruned) {
      const rowHashes = this.#rowHashes.subarray(0, this.#rowHashesLength);
      const root = hash('sha256', rowHashes, 'buffer');
      this.#computed.set(segment, { root, lastHash: Buffer.from(this.#previous) });
      if (segment.root && segment.lastHash) {
        if (!root.equals(segment.root) || !this.#previous.equals(segment.lastHash)) {
          this.#report({
            code: 'seal_mismatch',
            id: String(segment.lastId),
            seal: segment.seq ?? undefined,
            message:
              `rows ${segment.firstId}–${segment.lastId} do not match seal ${segment.seq}: ` +
              `a row was changed, removed or added and the chain rewritten`,
          });
        }
      }
    }
    // The next segment continues from what this seal recorded, right or wrong: a broken
    // segment is reported once and does not hide the state of the ones after it.
    if (segment.lastHash) this.#previous = segment.lastHash;
    this.#rowHashesLength = 0;
    this.#segmentIndex++;
  }

  #needsExpand(id: number): boolean {
    const next = this.#unexpanded[0];
    return next !== undefined && next.firstId <= id;
  }

  /**
   * Expands the summaries of each compacted segment that starts at or before `id`, once the
   * walk has reached the segment: whatever they hold is then reported in chain order, at the
   * segment, and walking a stretch of the log on its own (verify's workers) reports exactly
   * what walking it within the whole log does.
   */
  async #expandThrough(id: number): Promise<void> {
    for (let segment = this.#unexpanded[0]; segment && segment.firstId <= id;) {
      this.#advanceTo(segment.firstId);
      const rows =
        this.#fetched.get(segment) ?? (await loadSummarizedRows(this.#side, segment.seq!));
      this.#fetched.delete(segment);
      for (const row of rows) {
        const rowId = Number(row.id);
        if (rowId < segment.firstId || rowId > segment.lastId || this.#expanded.has(rowId)) {
          this.#problem('duplicate_row', rowId, `summarized row ${rowId} is out of place`);
          continue;
        }
        this.#expanded.set(rowId, { id: rowId, canonical: Buffer.from(canonicalRow(row)) });
      }
      this.#unexpanded.shift();
      segment = this.#unexpanded[0];
    }
  }

  #problem(code: ProblemCode, id: number, message: string): void {
    this.#report({ code, id: String(id), message });
  }
}

interface SummaryRow extends Omit<AuditRecord, 'id' | 'at' | 'requestId' | 'clientAddress'> {
  ids: string[];
  ats: Date[];
  requestIds: (string | null)[];
  clientAddresses: (string | null)[];
}

/** The rows a segment's summaries replaced, rebuilt field for field. */
async function loadSummarizedRows(db: Tx, segment: string): Promise<AuditRecord[]> {
  const { rows } = await db.query<SummaryRow>(
    `SELECT source, operation, action, actor_kind AS "actorKind", actor_id AS "actorId", roles,
            device_id AS "deviceId", purpose, resource_type AS "resourceType",
            resource_id AS "resourceId", patient_ids::text[] AS "patientIds", outcome, reason,
            ids::text[] AS ids, ats, request_ids AS "requestIds",
            client_addresses AS "clientAddresses"
       FROM audit_summary WHERE segment = $1`,
    [segment],
  );
  return rows.flatMap(({ ids, ats, requestIds, clientAddresses, ...shared }) =>
    ids.map((id, index) => ({
      ...shared,
      id,
      at: ats[index]!.toISOString(),
      requestId: requestIds[index] ?? null,
      clientAddress: clientAddresses[index] ?? null,
    })),
  );
}
