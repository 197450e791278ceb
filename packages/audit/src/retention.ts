import type { Db } from '@medaxis/db';

import {
  appendSealEntry,
  loadSealChain,
  lockMaintenance,
  segmentsOf,
  type SealEntry,
} from './seal-chain.ts';

/** A retention period as the seal chain records it: `P6Y` (years) or `P30D` (days). */
export function retentionPeriod(years: number): string {
  return `P${years}Y`;
}

/**
 * Whether removing `segment` at `removedAt` kept to `period`: its newest row must be at least
 * that old. Anything else (an unknown period, a segment without times) does not allow it.
 */
export function retentionAllows(
  period: string | null,
  segment: Pick<SealEntry, 'lastAt'>,
  removedAt: string,
): boolean {
  const match = /^P(\d+)([YD])$/.exec(period ?? '');
  if (!match || !segment.lastAt) return false;
  const until = new Date(segment.lastAt);
  if (match[2] === 'Y') until.setUTCFullYear(until.getUTCFullYear() + Number(match[1]));
  else until.setUTCDate(until.getUTCDate() + Number(match[1]));
  return until.getTime() <= new Date(removedAt).getTime();
}

/**
 * Removes sealed segments whose newest row is older than the retention period, oldest first.
 * Each removal first appends a retention entry to the seal chain (naming the segment and the
 * policy), then deletes the segment's summaries and rows in the same transaction: the delete
 * triggers allow exactly the rows such an entry covers. The seals stay, so verify still
 * proves the chain across the removed stretch and that nothing went early.
 */
export async function applyRetention(
  db: Db,
  options: { years: number; now?: Date },
): Promise<{ segments: number; rows: number }> {
  const now = options.now ?? new Date();
  const period = retentionPeriod(options.years);
  const seals = await loadSealChain(db);
  const due = segmentsOf(seals).filter((segment) => {
    const seal = seals.find((entry) => entry.seq === segment.seq)!;
    return !segment.pruned && retentionAllows(period, seal, now.toISOString());
  });

  let rows = 0;
  for (const segment of due) {
    const seal = seals.find((entry) => entry.seq === segment.seq)!;
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      await lockMaintenance(client);
      const done = await client.query(
        `SELECT 1 FROM audit_seal WHERE kind = 'retention' AND first_id = $1 AND last_id = $2`,
        [seal.firstId, seal.lastId],
      );
      if (done.rowCount === 0) {
        await appendSealEntry(
          client,
          {
            kind: 'retention',
            firstId: seal.firstId,
            lastId: seal.lastId,
            rowCount: seal.rowCount,
            firstAt: seal.firstAt,
            lastAt: seal.lastAt,
            root: null,
            lastHash: null,
            detail: period,
          },
          now,
        );
        await client.query(`DELETE FROM audit_summary WHERE segment = $1`, [seal.seq]);
        await client.query(`DELETE FROM audit_event WHERE id BETWEEN $1 AND $2`, [
          seal.firstId,
          seal.lastId,
        ]);
        rows += Number(seal.rowCount);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
  return { segments: due.length, rows };
}
