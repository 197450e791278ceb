import type { Db } from '@medaxis/db';

import { genesisHash } from './canonical.ts';
import type { AuditMirror } from './mirror.ts';
import { appendSealEntry, lockMaintenance, type SealEntry } from './seal-chain.ts';
import { walkChain, type AuditProblem } from './walk.ts';

/** Thrown when the rows to seal do not chain: sealing them would certify a broken log. */
export class AuditChainBrokenError extends Error {
  override readonly name = 'AuditChainBrokenError';
  constructor(readonly problems: readonly AuditProblem[]) {
    super(`audit chain broken: ${problems[0]?.message ?? 'unknown problem'}`);
  }
}

/**
 * Seals every row appended since the last seal, in segments of at most `maxRows`: checks each
 * segment's chain from the last seal's hash, then appends a seal entry with the segment's
 * root (sha256 over its row hashes in id order) and the chain hash of its last row. Rows
 * that do not chain are not sealed: it throws AuditChainBrokenError naming the first broken
 * link. Run by the worker every hour, so a segment is about an hour of audit rows.
 */
export async function sealAuditLog(
  db: Db,
  options: { maxRows?: number; now?: () => Date; mirror?: AuditMirror | undefined } = {},
): Promise<SealEntry[]> {
  const maxRows = options.maxRows ?? 100_000;
  const now = options.now ?? (() => new Date());
  const sealed: SealEntry[] = [];
  for (;;) {
    const entry = await sealNextSegment(db, maxRows, now());
    if (!entry) return sealed;
    options.mirror?.seal(entry);
    sealed.push(entry);
  }
}

async function sealNextSegment(db: Db, maxRows: number, now: Date) {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await lockMaintenance(client);
    const last = await client.query<{ lastId: string; lastHash: Buffer }>(
      `SELECT last_id::text AS "lastId", last_hash AS "lastHash" FROM audit_seal
        WHERE kind = 'seal' ORDER BY audit_seal.seq DESC LIMIT 1`,
    );
    const head = await client.query<{ lastId: string }>(
      `SELECT last_id::text AS "lastId" FROM audit_head WHERE id = 1`,
    );
    const first = Number(last.rows[0]?.lastId ?? 0) + 1;
    const lastId = Math.min(Number(head.rows[0]!.lastId), first + maxRows - 1);
    if (lastId < first) {
      await client.query('COMMIT');
      return undefined;
    }

    const problems: AuditProblem[] = [];
    const segment = {
      seq: null,
      firstId: first,
      lastId,
      root: null,
      lastHash: null,
      pruned: false,
      compacted: false,
    };
    const walked = await walkChain(client, client, {
      from: first,
      to: lastId,
      previous: last.rows[0]?.lastHash ?? genesisHash,
      segments: [segment],
      report: (problem) => problems.push(problem),
    });
    if (problems.length > 0) throw new AuditChainBrokenError(problems);
    const computed = walked.computed.get(segment)!;

    const span = await client.query<{ firstAt: Date; lastAt: Date }>(
      `SELECT min(at) AS "firstAt", max(at) AS "lastAt" FROM audit_event
        WHERE id BETWEEN $1 AND $2`,
      [first, lastId],
    );
    const entry = await appendSealEntry(
      client,
      {
        kind: 'seal',
        firstId: String(first),
        lastId: String(lastId),
        rowCount: String(lastId - first + 1),
        firstAt: span.rows[0]!.firstAt.toISOString(),
        lastAt: span.rows[0]!.lastAt.toISOString(),
        root: computed.root,
        lastHash: computed.lastHash,
        detail: null,
      },
      now,
    );
    await client.query('COMMIT');
    return entry;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
