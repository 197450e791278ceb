import { availableParallelism } from 'node:os';

import type { Db, Tx } from '@medaxis/db';

import { chainHash, genesisHash } from './canonical.ts';
import { canonicalSeal, loadSealChain, segmentsOf, type SealEntry } from './seal-chain.ts';
import { retentionAllows } from './retention.ts';
import { walkOnWorkers, workerConnection } from './verify-pool.ts';
import {
  joinStretches,
  keptProblems,
  stretchesOf,
  walkStretch,
  type Stretch,
  type StretchResult,
} from './verify-stretch.ts';
import type { AuditProblem } from './walk.ts';

export interface VerifyReport {
  ok: boolean;
  /** Chain positions accounted for: live rows, summarized rows, rows removed by retention. */
  rows: number;
  liveRows: number;
  compactedRows: number;
  prunedRows: number;
  seals: number;
  headId: string;
  /** The first broken link in chain order (rows, then seals), or null. */
  firstProblem: AuditProblem | null;
  problemCount: number;
  /** The first problems found (at most 100), in chain order. */
  problems: AuditProblem[];
  /** Worker threads the rows were walked on; 0 when on the caller's own thread. */
  workers: number;
  durationMs: number;
}

export interface VerifyOptions {
  /**
   * Worker threads to walk the sealed segments on, side by side, each with its own
   * connections in verify's snapshot. Default: os.availableParallelism(). 0 or 1: walk on
   * the caller's thread, on two connections of `db`.
   */
  workers?: number;
  /**
   * Rows per worker at least: a thread costs about 0.1 s to start and warm up, so a small
   * log is walked on the caller's thread. Default 200,000 (two sealed segments).
   */
  minRowsPerWorker?: number;
}

/**
 * Checks the whole audit log: every row's hash against the row and the hash before it
 * (summarized rows rebuilt and hashed the same way), every segment against its seal, the seal
 * chain entry by entry, every retention removal against the policy it names, and the head.
 * Reads the rows once, streamed. A large log is walked on worker threads, one sealed segment
 * at a time each (a segment starts from the last hash its seal recorded, so segments are
 * independent), and their findings are joined in chain order: the report is the one a
 * single walk over the whole chain gives.
 */
export async function verifyAuditLog(db: Db, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  const problems: AuditProblem[] = [];
  let problemCount = 0;
  const report = (problem: AuditProblem) => {
    problemCount++;
    if (problems.length < keptProblems) problems.push(problem);
  };

  const client = await db.connect();
  try {
    // One snapshot for the seals, the head and the rows, on every connection and thread: a
    // flush committing meanwhile is neither half seen nor reported as a row beyond the head.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = await client.query<{ id: string }>(`SELECT pg_export_snapshot() AS id`);
    const snapshotId = snapshot.rows[0]!.id;

    const seals = await loadSealChain(client);
    const sealProblems = checkSealChain(seals);
    const segments = segmentsOf(seals);
    const head = await client.query<{ lastId: string; lastHash: Buffer }>(
      `SELECT last_id::text AS "lastId", last_hash AS "lastHash" FROM audit_head WHERE id = 1`,
    );
    const headId = Number(head.rows[0]!.lastId);
    const sealedThrough = segments.at(-1)?.lastId ?? 0;
    const to = Math.max(headId, sealedThrough);

    const stretches = stretchesOf(segments, to);
    const connection = workerConnection(db);
    const threads = Math.min(
      options.workers ?? availableParallelism(),
      stretches.length,
      Math.floor(to / (options.minRowsPerWorker ?? 200_000)),
    );
    const workers = threads >= 2 && connection ? threads : 0;
    const walked =
      workers > 0 && connection
        ? joinStretches(await walkOnWorkers(connection, snapshotId, stretches, workers))
        : await walkOnThisThread(db, client, snapshotId, {
            from: 1,
            to,
            previous: genesisHash,
            segments,
          });
    for (const problem of walked.problems) report(problem);
    problemCount += walked.problemCount - walked.problems.length;

    const beyond = await client.query<{ id: string }>(
      `SELECT id::text AS id FROM audit_event WHERE id > $1 ORDER BY audit_event.id LIMIT 1`,
      [to],
    );
    if (beyond.rows[0]) {
      report({
        code: 'unexpected_row',
        id: beyond.rows[0].id,
        message: `row ${beyond.rows[0].id} lies beyond the chain head (${headId})`,
      });
    }
    if (sealedThrough > headId) {
      report({
        code: 'head_mismatch',
        id: String(headId),
        message: `the head (${headId}) is behind the last seal (${sealedThrough})`,
      });
    } else if (headId > 0 && !walked.lastHash.equals(head.rows[0]!.lastHash)) {
      report({
        code: 'head_mismatch',
        id: String(headId),
        message: `the head's hash is not the hash of row ${headId}`,
      });
    }
    for (const problem of sealProblems) report(problem);
    await client.query('COMMIT');

    return {
      ok: problemCount === 0,
      rows: walked.live + walked.compacted + walked.pruned,
      liveRows: walked.live,
      compactedRows: walked.compacted,
      prunedRows: walked.pruned,
      seals: seals.length,
      headId: String(headId),
      firstProblem: problems[0] ?? null,
      problemCount,
      problems,
      workers,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    // Not back to the pool inside the read-only transaction.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Walks the whole chain in one go on this thread: rows on `client`, summaries on another. */
async function walkOnThisThread(
  db: Db,
  client: Tx,
  snapshot: string,
  stretch: Stretch,
): Promise<StretchResult> {
  const side = await db.connect();
  try {
    await side.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await side.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
    const walked = await walkStretch(client, side, stretch);
    await side.query('COMMIT');
    return walked;
  } catch (error) {
    await side.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    side.release();
  }
}

/**
 * The seal chain on its own: numbered 1, 2, 3…, each entry's hash chaining from the one
 * before, seals covering the log from row 1 without gaps or overlaps, and every compaction
 * and retention entry naming a sealed segment (retention no earlier than its policy allows).
 */
export function checkSealChain(seals: readonly SealEntry[]): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const broken = (entry: SealEntry, message: string) =>
    problems.push({ code: 'seal_chain_broken', seal: entry.seq, message });
  let previous = genesisHash;
  let nextFirst = 1n;
  const sealed = new Map<string, SealEntry>();
  for (const [index, entry] of seals.entries()) {
    if (entry.seq !== String(index + 1)) broken(entry, `seal entry ${entry.seq} is out of order`);
    if (!entry.prevHash.equals(previous)) {
      broken(entry, `seal entry ${entry.seq} does not chain to the entry before it`);
    }
    const { prevHash: _prevHash, hash: _hash, ...body } = entry;
    if (!chainHash(entry.prevHash, canonicalSeal(body)).equals(entry.hash)) {
      broken(entry, `seal entry ${entry.seq} does not match its hash`);
    }
    previous = entry.hash;

    const key = `${entry.firstId}-${entry.lastId}`;
    if (entry.kind === 'seal') {
      if (BigInt(entry.firstId) !== nextFirst) {
        broken(entry, `seal ${entry.seq} starts at row ${entry.firstId}, not ${nextFirst}`);
      }
      nextFirst = BigInt(entry.lastId) + 1n;
      sealed.set(key, entry);
      continue;
    }
    const segment = sealed.get(key);
    if (!segment) {
      broken(entry, `${entry.kind} entry ${entry.seq} names no sealed segment (${key})`);
      continue;
    }
    if (entry.kind === 'retention' && !retentionAllows(entry.detail, segment, entry.createdAt)) {
      problems.push({
        code: 'retention_too_early',
        seal: entry.seq,
        message: `retention entry ${entry.seq} removed rows ${key} before ${entry.detail} ended`,
      });
    }
  }
  return problems;
}
