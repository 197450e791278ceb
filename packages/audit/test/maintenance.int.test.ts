import { randomUUID } from 'node:crypto';

import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  applyRetention,
  AuditWriter,
  compactAuditLog,
  loadSealChain,
  sealAuditLog,
  verifyAuditLog,
} from '../src/index.ts';
import { copyOfLog, readEvent } from './support.ts';

const hour = 3_600_000;
const day = 24 * hour;
const start = Date.UTC(2019, 2, 4, 8);
const patientA = randomUUID();
const patientB = randomUUID();

let test: TestDatabase;

/** A read of `patient` by `actor` for `purpose`, `minutes` after the start. */
const read = (actor: string, patient: string, purpose: string, minutes: number) =>
  readEvent({
    at: new Date(start + minutes * 60_000),
    actor: { kind: 'user', id: actor, roles: ['clinician'] },
    purpose,
    resourceId: patient,
    patientIds: [patient],
  });

/** Every (who, patient, purpose, first, last, count) fact of allowed reads, however stored. */
async function readFacts() {
  const { rows } = await test.db.query<{ fact: string }>(
    `WITH reads AS (
       SELECT actor_id, patient_ids, purpose, at AS first_at, at AS last_at, 1 AS n
         FROM audit_event WHERE action = 'read' AND outcome = 'allowed'
       UNION ALL
       SELECT actor_id, patient_ids, purpose, first_at, last_at, count
         FROM audit_summary)
     SELECT concat_ws(' ', actor_id, patient_ids::text, purpose, to_json(min(first_at)),
                      to_json(max(last_at)), sum(n)) AS fact
       FROM reads GROUP BY actor_id, patient_ids, purpose ORDER BY 1`,
  );
  return rows.map((row) => row.fact);
}

beforeAll(async () => {
  test = await createTestDatabase('audit_maintenance');
  const writer = new AuditWriter(test.db);
  // Day 1: a clinician reads patient A every few minutes, patient B twice, once for another
  // purpose; a nurse reads A once; one read is denied, and one row is a write.
  for (let minute = 0; minute < 50; minute += 5)
    await writer.record(read('u-1', patientA, 'treatment', minute));
  await writer.record(read('u-1', patientB, 'treatment', 7));
  await writer.record(read('u-1', patientB, 'treatment', 9));
  await writer.record(read('u-1', patientB, 'operations', 11));
  await writer.record(read('u-2', patientA, 'treatment', 13));
  await writer.record({
    ...read('u-3', patientA, 'treatment', 15),
    outcome: 'denied',
    reason: 'consent',
  });
  await writer.record({
    ...read('u-1', patientA, 'treatment', 17),
    action: 'write',
    operation: 'adt.admit',
  });
});
afterAll(async () => {
  await test.drop();
});

describe('audit maintenance', () => {
  it('seals segments: a root per segment, chained, each checked before it is sealed', async () => {
    const entries = await sealAuditLog(test.db, { maxRows: 8 });

    expect(entries.map((entry) => [entry.firstId, entry.lastId])).toEqual([
      ['1', '8'],
      ['9', '16'],
    ]);
    expect(entries[1]!.prevHash.equals(entries[0]!.hash)).toBe(true);
    expect(await sealAuditLog(test.db, { maxRows: 8 })).toEqual([]);
    expect((await verifyAuditLog(test.db)).ok).toBe(true);
  });

  it('compacts repeated reads into summaries that keep every fact and still verify', async () => {
    const before = await readFacts();
    const result = await compactAuditLog(test.db, {
      afterMs: hour,
      now: new Date(start + 2 * day),
    });

    expect(result).toMatchObject({ segments: 2 });
    expect(result.replaced).toBeGreaterThanOrEqual(10);
    expect(await readFacts()).toEqual(before);
    const { rows } = await test.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM audit_event WHERE outcome = 'denied' OR action = 'write'`,
    );
    expect(rows[0]!.count).toBe(2); // denials and writes are never summarized
    const report = await verifyAuditLog(test.db);
    expect(report).toMatchObject({ ok: true, rows: 16 });
    expect(report.compactedRows).toBe(result.replaced);
  });

  it('leaves a compacted segment alone the next time', async () => {
    const again = await compactAuditLog(test.db, { afterMs: hour, now: new Date(start + 3 * day) });
    expect(again).toEqual({ segments: 0, replaced: 0, summaries: 0 });
  });

  it('detects a summary whose facts were changed', async () => {
    const copy = await copyOfLog(test.db);
    try {
      await copy.tamper.query(
        `UPDATE audit_summary SET purpose = 'operations'
          WHERE id = (SELECT min(id) FROM audit_summary)`,
      );
      const report = await verifyAuditLog(copy.db);
      expect(report.ok).toBe(false);
      expect(['hash_mismatch', 'seal_mismatch']).toContain(report.firstProblem?.code);
    } finally {
      await copy.drop();
    }
  });

  it('refuses to compact or delete outside the maintenance path, even as the owner', async () => {
    await expect(test.db.query(`DELETE FROM audit_event WHERE id = 16`)).rejects.toThrow(
      /append-only/,
    );
    await expect(test.db.query(`UPDATE audit_summary SET count = 1`)).rejects.toThrow(
      /append-only/,
    );
    const client = await test.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL medaxis.audit_maintenance = 'on'`);
      // In maintenance mode too: row 16 (the write) is held by no summary.
      await expect(client.query(`DELETE FROM audit_event WHERE id = 16`)).rejects.toThrow(
        /append-only/,
      );
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('removes segments past retention, keeps their seals, and still verifies', async () => {
    const writer = new AuditWriter(test.db);
    await writer.record(read('u-1', patientA, 'treatment', 7 * 365 * 24 * 60));
    await sealAuditLog(test.db);

    const result = await applyRetention(test.db, {
      years: 6,
      now: new Date(start + 6.5 * 365 * day),
    });

    expect(result).toEqual({ segments: 2, rows: 16 });
    const left = await test.db.query<{ count: number }>(
      `SELECT (SELECT count(*) FROM audit_event)::int
              + (SELECT count(*) FROM audit_summary)::int AS count`,
    );
    expect(left.rows[0]!.count).toBe(1);
    expect((await loadSealChain(test.db)).map((entry) => entry.kind)).toEqual([
      'seal',
      'seal',
      'compaction',
      'compaction',
      'seal',
      'retention',
      'retention',
    ]);
    expect(await verifyAuditLog(test.db)).toMatchObject({ ok: true, prunedRows: 16, liveRows: 1 });
  });

  it('shows a removal earlier than the policy named', async () => {
    const copy = await copyOfLog(test.db);
    try {
      // Pretend the first removal happened a year after the rows were written.
      const { rows } = await copy.db.query<{ seq: string }>(
        `SELECT seq::text AS seq FROM audit_seal
          WHERE kind = 'retention' ORDER BY audit_seal.seq LIMIT 1`,
      );
      await copy.tamper.query(`UPDATE audit_seal SET detail = 'P20Y' WHERE seq = $1`, [
        rows[0]!.seq,
      ]);
      const report = await verifyAuditLog(copy.db);
      expect(report.problems).toContainEqual(
        expect.objectContaining({ code: 'retention_too_early', seal: rows[0]!.seq }),
      );
    } finally {
      await copy.drop();
    }
  });
});
