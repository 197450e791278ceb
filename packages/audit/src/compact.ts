import type { Db } from '@medaxis/db';

import { appendSealEntry, loadSealChain, lockMaintenance, segmentsOf } from './seal-chain.ts';
import { AuditChainBrokenError } from './seal.ts';
import { walkChain, type AuditProblem } from './walk.ts';

/** Every column of a row but its id, time, request and address: what a run must share. */
const sharedColumns = [
  'source',
  'operation',
  'action',
  'actor_kind',
  'actor_id',
  'roles',
  'device_id',
  'purpose',
  'resource_type',
  'resource_id',
  'patient_ids',
  'outcome',
  'reason',
].join(', ');

export interface CompactionResult {
  segments: number;
  /** Rows replaced by summaries. */
  replaced: number;
  summaries: number;
}

/**
 * Compacts repetitive reads in sealed segments older than `afterMs`: allowed reads that share
 * everything but their time, request id and client address (same actor, roles, device,
 * purpose, procedure, patients…) become one summary row per segment with first and last
 * time and count, when there are at least `minRun` of them. The summary keeps each replaced
 * row's id, time, request id and address too, so every replaced row can be rebuilt exactly
 * and hashed: the chain, the seals and verify stay as they were, and compaction needs no
 * trust. Before committing, the job walks the segment as verify would and rolls back unless
 * it still matches its seal. A compaction entry in the seal chain marks the segment done.
 */
export async function compactAuditLog(
  db: Db,
  options: { afterMs: number; minRun?: number; now?: Date; maxSegments?: number },
): Promise<CompactionResult> {
  const now = options.now ?? new Date();
  const minRun = Math.max(2, options.minRun ?? 2);
  const seals = await loadSealChain(db);
  const due = segmentsOf(seals)
    .filter((segment) => {
      const seal = seals.find((entry) => entry.seq === segment.seq)!;
      const age = now.getTime() - new Date(seal.lastAt ?? now).getTime();
      return !segment.compacted && !segment.pruned && age >= options.afterMs;
    })
    .slice(0, options.maxSegments ?? 100);

  const result: CompactionResult = { segments: 0, replaced: 0, summaries: 0 };
  for (const segment of due) {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await lockMaintenance(client);
      const done = await client.query(
        `SELECT 1 FROM audit_seal WHERE kind IN ('compaction', 'retention')
            AND first_id = $1 AND last_id = $2`,
        [segment.firstId, segment.lastId],
      );
      if (done.rowCount !== 0) {
        await client.query('COMMIT');
        continue;
      }

      const summaries = await client.query<{ count: number }>(
        `INSERT INTO audit_summary (segment, first_id, last_id, ${sharedColumns}, first_at,
                                    last_at, count, ids, ats, request_ids, client_addresses)
         SELECT $1, min(id), max(id), ${sharedColumns}, min(at), max(at), count(*),
                array_agg(id ORDER BY id), array_agg(at ORDER BY id),
                array_agg(request_id ORDER BY id), array_agg(client_address ORDER BY id)
           FROM audit_event
          WHERE id BETWEEN $2 AND $3 AND action = 'read' AND outcome = 'allowed'
          GROUP BY ${sharedColumns}
         HAVING count(*) >= $4
         RETURNING count`,
        [segment.seq, segment.firstId, segment.lastId, minRun],
      );
      const replaced = summaries.rows.reduce((sum, row) => sum + row.count, 0);
      // The delete trigger lets a row go only because a summary now holds it.
      await client.query(
        `DELETE FROM audit_event
          WHERE id BETWEEN $2 AND $3
            AND id IN (SELECT unnest(ids) FROM audit_summary WHERE segment = $1)`,
        [segment.seq, segment.firstId, segment.lastId],
      );
      await appendSealEntry(
        client,
        {
          kind: 'compaction',
          firstId: String(segment.firstId),
          lastId: String(segment.lastId),
          rowCount: String(replaced),
          firstAt: null,
          lastAt: null,
          root: null,
          lastHash: null,
          detail: `${summaries.rowCount ?? 0} summaries`,
        },
        now,
      );

      const problems: AuditProblem[] = [];
      await walkChain(client, client, {
        from: segment.firstId,
        to: segment.lastId,
        previous: previousHash(seals, segment.firstId),
        segments: [{ ...segment, compacted: true }],
        report: (problem) => problems.push(problem),
        preload: true,
      });
      if (problems.length > 0) throw new AuditChainBrokenError(problems);

      await client.query('COMMIT');
      result.segments++;
      result.replaced += replaced;
      result.summaries += summaries.rowCount ?? 0;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
  return result;
}

/** The chain hash a segment starts from: the last hash of the seal before it. */
function previousHash(seals: Awaited<ReturnType<typeof loadSealChain>>, firstId: number) {
  const before = seals.find(
    (entry) => entry.kind === 'seal' && Number(entry.lastId) === firstId - 1,
  );
  return before?.lastHash ?? Buffer.alloc(32);
}
