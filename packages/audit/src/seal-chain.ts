import type { Queryable } from '@medaxis/db';

import { chainHash, genesisHash } from './canonical.ts';
import type { Segment } from './walk.ts';

/** seal: a segment's root; compaction and retention: what maintenance did to a segment. */
export const sealKinds = ['seal', 'compaction', 'retention'] as const;
export type SealKind = (typeof sealKinds)[number];

/** An entry of the seal chain (table audit_seal). */
export interface SealEntry {
  seq: string;
  kind: SealKind;
  firstId: string;
  lastId: string;
  /** seal: rows in the segment; compaction: rows replaced; retention: rows removed. */
  rowCount: string;
  firstAt: string | null;
  lastAt: string | null;
  /** seal: sha256 over the segment's row hashes in id order. */
  root: Buffer | null;
  /** seal: the chain hash of the segment's last row, where the next segment continues. */
  lastHash: Buffer | null;
  /** compaction: summaries written; retention: the policy, e.g. `P6Y`. */
  detail: string | null;
  createdAt: string;
  prevHash: Buffer;
  hash: Buffer;
}

/**
 * The canonical encoding of a seal entry, like a row's (canonical.ts): the UTF-8 bytes of
 * JSON.stringify(["seal-1", seq, kind, firstId, lastId, rowCount, firstAt, lastAt, root,
 * lastHash, detail, createdAt]) with hashes as lowercase hex. Its hash is
 * sha256(previous entry's hash ‖ this), the first entry chaining from 32 zero bytes.
 */
export function canonicalSeal(entry: Omit<SealEntry, 'prevHash' | 'hash'>): string {
  return JSON.stringify([
    'seal-1',
    entry.seq,
    entry.kind,
    entry.firstId,
    entry.lastId,
    entry.rowCount,
    entry.firstAt,
    entry.lastAt,
    entry.root?.toString('hex') ?? null,
    entry.lastHash?.toString('hex') ?? null,
    entry.detail,
    entry.createdAt,
  ]);
}

const sealColumns = `
  seq::text AS seq, kind, first_id::text AS "firstId", last_id::text AS "lastId",
  row_count::text AS "rowCount", to_json(first_at)#>>'{}' AS "firstAt",
  to_json(last_at)#>>'{}' AS "lastAt", root, last_hash AS "lastHash", detail,
  to_json(created_at)#>>'{}' AS "createdAt", prev_hash AS "prevHash", hash`;

/** The whole seal chain in order: one entry per segment and maintenance run, so it is short. */
export async function loadSealChain(db: Queryable): Promise<SealEntry[]> {
  const { rows } = await db.query<SealEntry>(
    `SELECT ${sealColumns} FROM audit_seal ORDER BY audit_seal.seq`,
  );
  return rows.map(normalizeInstants);
}

// PostgreSQL prints timestamptz in JSON with its own offset form; the canonical form is ISO
// with Z and milliseconds, as the entry was hashed.
function normalizeInstants(entry: SealEntry): SealEntry {
  const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());
  return {
    ...entry,
    firstAt: iso(entry.firstAt),
    lastAt: iso(entry.lastAt),
    createdAt: new Date(entry.createdAt).toISOString(),
  };
}

/**
 * Appends an entry to the seal chain inside the caller's transaction, which must hold the
 * maintenance lock (`lockMaintenance`), so entries are appended one at a time.
 */
export async function appendSealEntry(
  tx: Queryable,
  entry: Omit<SealEntry, 'seq' | 'prevHash' | 'hash' | 'createdAt'>,
  now: Date,
): Promise<SealEntry> {
  const { rows } = await tx.query<{ seq: string; hash: Buffer }>(
    `SELECT seq::text AS seq, hash FROM audit_seal ORDER BY audit_seal.seq DESC LIMIT 1`,
  );
  const previous = rows[0];
  const body = {
    ...entry,
    seq: previous ? String(BigInt(previous.seq) + 1n) : '1',
    createdAt: now.toISOString(),
  };
  const prevHash = previous?.hash ?? genesisHash;
  const sealed: SealEntry = { ...body, prevHash, hash: chainHash(prevHash, canonicalSeal(body)) };
  await tx.query(
    `INSERT INTO audit_seal (seq, kind, first_id, last_id, row_count, first_at, last_at, root,
                             last_hash, detail, created_at, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      sealed.seq,
      sealed.kind,
      sealed.firstId,
      sealed.lastId,
      sealed.rowCount,
      sealed.firstAt,
      sealed.lastAt,
      sealed.root,
      sealed.lastHash,
      sealed.detail,
      sealed.createdAt,
      sealed.prevHash,
      sealed.hash,
    ],
  );
  return sealed;
}

/**
 * Serializes the audit maintenance jobs (seal, compaction, retention) across workers for the
 * rest of the transaction, and opens the maintenance path the delete triggers allow.
 */
export async function lockMaintenance(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('medaxis_audit_maintenance'))`);
  await tx.query(`SET LOCAL medaxis.audit_maintenance = 'on'`);
}

/** Sealed segments in id order, with what compaction and retention did to each. */
export function segmentsOf(seals: readonly SealEntry[]): Segment[] {
  const segments = new Map<string, Segment>();
  for (const entry of seals) {
    const key = `${entry.firstId}-${entry.lastId}`;
    if (entry.kind === 'seal') {
      segments.set(key, {
        seq: entry.seq,
        firstId: Number(entry.firstId),
        lastId: Number(entry.lastId),
        root: entry.root,
        lastHash: entry.lastHash,
        pruned: false,
        compacted: false,
      });
      continue;
    }
    const segment = segments.get(key);
    if (!segment) continue; // reported by checkSealChain
    if (entry.kind === 'compaction') segment.compacted = true;
    if (entry.kind === 'retention') segment.pruned = true;
  }
  return [...segments.values()].sort((a, b) => a.firstId - b.firstId);
}
