import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Db } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  applyRetention,
  AuditWriter,
  compactAuditLog,
  sealAuditLog,
  verifyAuditLog,
  type VerifyReport,
} from '../src/index.ts';
import { walkOnWorkers, workerConnection } from '../src/verify-pool.ts';
import { joinStretches, type StretchResult } from '../src/verify-stretch.ts';
import { copyOfLog, readEvent } from './support.ts';

let source: TestDatabase;
const copies: TestDatabase[] = [];

/**
 * 47 rows: four sealed segments of 10 and an unsealed tail of 7. Segment 1 (rows 1–10) is
 * years old and removed by retention; segment 2 (11–20) is one clinician's repeated reads of
 * one patient, compacted into a summary; segments 3 and 4 (21–40) are live; 41–47 unsealed.
 */
beforeAll(async () => {
  source = await createTestDatabase('audit_verify_parallel');
  const writer = new AuditWriter(source.db);
  const longAgo = Date.UTC(2018, 0, 1);
  for (let index = 0; index < 10; index++) {
    await writer.record(readEvent({ at: new Date(longAgo + index * 60_000) }));
  }
  const patient = randomUUID();
  for (let index = 0; index < 10; index++) {
    await writer.record(readEvent({ resourceId: patient, patientIds: [patient] }));
  }
  for (let index = 0; index < 20; index++) await writer.record(readEvent());
  await sealAuditLog(source.db, { maxRows: 10 });
  await applyRetention(source.db, { years: 6 });
  await compactAuditLog(source.db, { afterMs: 0, minRun: 5 });
  for (let index = 0; index < 7; index++) await writer.record(readEvent());
});
afterEach(async () => {
  for (const copy of copies.splice(0)) await copy.drop();
});
afterAll(async () => {
  await source.drop();
});

/**
 * Verifies `db` on two worker threads (whatever the log's size) and on this thread alone,
 * and checks that both give the same report: the parallel one is returned.
 */
async function verifyBothWays(db: Db): Promise<VerifyReport> {
  const parallel = await verifyAuditLog(db, { workers: 2, minRowsPerWorker: 1 });
  const sequential = await verifyAuditLog(db, { workers: 0 });
  expect(parallel.workers).toBe(2);
  expect(sequential.workers).toBe(0);
  const { durationMs: _parallelMs, workers: _two, ...parallelFindings } = parallel;
  const { durationMs: _sequentialMs, workers: _none, ...sequentialFindings } = sequential;
  expect(parallelFindings).toEqual(sequentialFindings);
  return parallel;
}

async function tampered(...statements: string[]) {
  const copy = await copyOfLog(source.db);
  copies.push(copy);
  for (const sql of statements) await copy.tamper.query(sql);
  return verifyBothWays(copy.db);
}

const found = (report: VerifyReport) =>
  report.problems.map((problem) => [problem.code, problem.id ?? `seal ${problem.seal}`]);

describe('audit verify on worker threads', () => {
  it('passes the untouched log, pruned and compacted segments and the tail included', async () => {
    const report = await verifyBothWays(source.db);
    expect(report).toMatchObject({ ok: true, rows: 47, prunedRows: 10, headId: '47' });
    expect(report.compactedRows).toBe(10);
    expect(report.liveRows).toBe(27);
  });

  it('names an edited row in a middle segment', async () => {
    const report = await tampered(`UPDATE audit_event SET actor_id = 'someone' WHERE id = 25`);
    expect(found(report)).toEqual([['hash_mismatch', '25']]);
  });

  it('names an edited row in the unsealed tail', async () => {
    const report = await tampered(`UPDATE audit_event SET purpose = 'audit' WHERE id = 44`);
    expect(found(report)).toEqual([['hash_mismatch', '44']]);
  });

  it('names a deleted row in a middle segment, the row after it and the segment’s seal', async () => {
    const report = await tampered(`DELETE FROM audit_event WHERE id = 23`);
    expect(found(report)).toEqual([
      ['missing_row', '23'],
      ['hash_mismatch', '24'],
      ['seal_mismatch', '30'],
    ]);
  });

  it('names both rows when the last row of a segment and the first of the next are edited', async () => {
    const report = await tampered(`UPDATE audit_event SET reason = 'x' WHERE id IN (30, 31)`);
    expect(found(report)).toEqual([
      ['hash_mismatch', '30'],
      ['hash_mismatch', '31'],
    ]);
  });

  it('blames a forged hash on a segment’s last row and its seal, not the next segment', async () => {
    const report = await tampered(`UPDATE audit_event SET hash = sha256(hash) WHERE id = 30`);
    expect(found(report)).toEqual([
      ['hash_mismatch', '30'],
      ['seal_mismatch', '30'],
    ]);
  });

  it('reports the lowest broken link first, whichever thread finished first', async () => {
    const report = await tampered(
      `UPDATE audit_event SET actor_id = 'someone' WHERE id IN (44, 36, 22)`,
    );
    expect(report.firstProblem).toMatchObject({ code: 'hash_mismatch', id: '22' });
    expect(found(report)).toEqual([
      ['hash_mismatch', '22'],
      ['hash_mismatch', '36'],
      ['hash_mismatch', '44'],
    ]);
  });

  it('catches an altered summary in a compacted segment', async () => {
    const report = await tampered(`UPDATE audit_summary SET purpose = 'research'`);
    expect(report.ok).toBe(false);
    expect(found(report)).toContainEqual(['seal_mismatch', '20']);
  });

  it('finds a row put back into a segment retention removed', async () => {
    const report = await tampered(
      `INSERT INTO audit_event SELECT 5, at, source, operation, action, actor_kind, actor_id,
              roles, device_id, purpose, resource_type, resource_id, patient_ids, outcome,
              reason, request_id, client_address, hash FROM audit_event WHERE id = 21`,
    );
    expect(found(report)).toEqual([['unexpected_row', '5']]);
  });

  it('walks a seal chain with a gap as a whole, on this thread', async () => {
    const copy = await copyOfLog(source.db);
    copies.push(copy);
    await copy.tamper.query(`DELETE FROM audit_seal WHERE seq = 3`);
    const report = await verifyAuditLog(copy.db, { workers: 2, minRowsPerWorker: 1 });
    expect(report.workers).toBe(0);
    expect(report.problems).toContainEqual(expect.objectContaining({ code: 'seal_chain_broken' }));
  });

  it('runs its threads when verify runs under tsx, as the CLI and the server do', async () => {
    const script = join(repoRoot, 'packages/audit/test/verify-under-tsx.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', script, source.url],
      { cwd: repoRoot },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, rows: 47, workers: 2 });
  });
});

describe('verify worker threads', () => {
  it('fail verify with the worker’s error instead of hanging or reporting a partial walk', async () => {
    const connection = workerConnection(source.db)!;
    const stretch = { from: 1, to: 10, previous: Buffer.alloc(32), segments: [] };
    await expect(
      walkOnWorkers(connection, 'not-a-snapshot', [stretch, { ...stretch, from: 11 }], 2),
    ).rejects.toThrow(/verify worker: invalid snapshot identifier/);
  });
});

describe('joining the walks of stretches', () => {
  const stretch = (from: number, count: number): StretchResult => ({
    problems: Array.from({ length: Math.min(count, 100) }, (_, index) => ({
      code: 'hash_mismatch',
      id: String(from + index),
      message: 'changed',
    })),
    problemCount: count,
    live: count,
    compacted: 0,
    pruned: 0,
    lastHash: Buffer.alloc(32, from),
  });

  it('keeps the first 100 problems in chain order and counts them all', () => {
    const joined = joinStretches([stretch(1, 60), stretch(101, 150), stretch(301, 5)]);
    expect(joined.problemCount).toBe(215);
    expect(joined.problems.map((problem) => problem.id)).toEqual([
      ...Array.from({ length: 60 }, (_, index) => String(1 + index)),
      ...Array.from({ length: 40 }, (_, index) => String(101 + index)),
    ]);
    expect(joined.lastHash).toEqual(Buffer.alloc(32, 301));
  });
});
