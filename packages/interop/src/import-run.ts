import type { Queryable } from '@medaxis/db';

/*
 * Bookkeeping every importer shares (FHIR, Synthea): the run row, the rejected entries kept
 * with their reason (import_rejection) so they can be fixed and reprocessed, and the audit
 * sink imports write through as the system.
 */

/** One entry an import could not apply: where it was, what it was, why. */
export interface ImportRejection {
  file: string;
  /** Line of an NDJSON or CSV file (1 = the first data row), or entry number in a Bundle. */
  row: number;
  raw: unknown;
  reason: string;
  message: string;
}

/** The part of packages/audit's AuditWriter imports and exports use (`defer`, then `flush`). */
export interface ImportAuditSink {
  defer(event: {
    source: string;
    operation: string;
    action: 'write' | 'export';
    actor: { kind: 'system'; id: 'system'; roles: readonly string[] };
    purpose: 'operations';
    resourceType: string;
    resourceId: string;
    patientIds?: readonly string[];
    encounterIds?: readonly string[];
    outcome: 'allowed';
  }): void;
  flush(): Promise<void>;
}

export const systemActor = { kind: 'system', id: 'system', roles: ['system'] } as const;

export async function openImportRun(db: Queryable, kind: string, source: string) {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO import_run (kind, source) VALUES ($1, $2) RETURNING id`,
    [kind, source],
  );
  return rows[0]!.id;
}

export async function closeImportRun(
  db: Queryable,
  runId: number,
  counts: { applied: number; rejected: number },
  report: unknown,
) {
  await db.query(
    `UPDATE import_run SET finished_at = now(), applied = $2, rejected = $3, report = $4
      WHERE id = $1`,
    [runId, counts.applied, counts.rejected, JSON.stringify(report)],
  );
}

/**
 * Keeps each rejected entry with its reason. One an earlier run of the same kind already kept,
 * and nobody has reprocessed since, is not stored again: a re-run reports it, once.
 */
export async function keepImportRejections(
  db: Queryable,
  kind: string,
  runId: number,
  rejections: readonly ImportRejection[],
): Promise<{ alreadyKept: number }> {
  let alreadyKept = 0;
  for (const rejection of rejections) {
    const { rowCount } = await db.query(
      `INSERT INTO import_rejection (run_id, file, row_number, row, code, reason)
       SELECT $1, $2, $3, $4::jsonb, $5, $6
        WHERE NOT EXISTS (
          SELECT 1 FROM import_rejection r JOIN import_run u ON u.id = r.run_id
           WHERE u.kind = $7 AND r.file = $2 AND r.row_number = $3 AND r.code = $5
             AND r.row = $4::jsonb AND r.reprocessed_at IS NULL)`,
      [
        runId,
        rejection.file,
        rejection.row,
        JSON.stringify(rejection.raw ?? null),
        rejection.reason,
        rejection.message,
        kind,
      ],
    );
    if (rowCount === 0) alreadyKept++;
  }
  return { alreadyKept };
}

/**
 * Marks reprocessed the open rejections that earlier runs of `kind` kept for rows this run
 * applied: a fixed file, imported again, closes what it fixed. A row is named by `keySql`, an
 * SQL expression over the kept row `r.row` (a resource's type and id, a CSV row's Id), and
 * matched against `keys`. Returns how many were marked.
 */
export async function resolveImportRejections(
  db: Queryable,
  kind: string,
  runId: number,
  keySql: string,
  keys: readonly string[],
): Promise<number> {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE import_rejection r
        SET reprocessed_at = now(), outcome = 'applied', reprocessed_by = $3
       FROM import_run u
      WHERE u.id = r.run_id AND u.kind = $1 AND u.id <> $2 AND r.reprocessed_at IS NULL
        AND ${keySql} = ANY($4::text[])`,
    [kind, runId, `import run ${runId}`, [...new Set(keys)]],
  );
  return rowCount ?? 0;
}

/** Counts by key, keys sorted: report tables read the same every run. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
