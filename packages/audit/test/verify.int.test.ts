import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { AuditWriter, sealAuditLog, verifyAuditLog } from '../src/index.ts';
import { copyOfLog, readEvent } from './support.ts';

let source: TestDatabase;
const copies: TestDatabase[] = [];

/** 30 rows, the first 20 sealed in two segments of 10, the last 10 not yet sealed. */
beforeAll(async () => {
  source = await createTestDatabase('audit_verify');
  const writer = new AuditWriter(source.db);
  for (let index = 0; index < 20; index++) await writer.record(readEvent());
  await sealAuditLog(source.db, { maxRows: 10 });
  for (let index = 0; index < 10; index++) await writer.record(readEvent());
});
afterEach(async () => {
  for (const copy of copies.splice(0)) await copy.drop();
});
afterAll(async () => {
  await source.drop();
});

async function tampered(sql: string, ...params: unknown[]) {
  const copy = await copyOfLog(source.db);
  copies.push(copy);
  await copy.tamper.query(sql, params);
  return verifyAuditLog(copy.db);
}

describe('audit verify', () => {
  it('passes an untouched log: every row, both seals and the head', async () => {
    const report = await verifyAuditLog(source.db);
    expect(report).toMatchObject({ ok: true, rows: 30, liveRows: 30, seals: 2, headId: '30' });
    expect(report.problems).toEqual([]);
  });

  it('passes an untouched copy (the copy itself changes nothing)', async () => {
    const copy = await copyOfLog(source.db);
    copies.push(copy);
    expect((await verifyAuditLog(copy.db)).ok).toBe(true);
  });

  it('names the edited row when a field of a sealed row is changed', async () => {
    const report = await tampered(`UPDATE audit_event SET actor_id = 'someone-else' WHERE id = 7`);
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ code: 'hash_mismatch', id: '7' });
  });

  it('names the edited row in the unsealed tail too', async () => {
    const report = await tampered(`UPDATE audit_event SET purpose = 'audit' WHERE id = 25`);
    expect(report.firstProblem).toMatchObject({ code: 'hash_mismatch', id: '25' });
  });

  it('names a deleted row as missing', async () => {
    const report = await tampered(`DELETE FROM audit_event WHERE id = 12`);
    expect(report.firstProblem).toMatchObject({ code: 'missing_row', id: '12' });
  });

  it('names the first row after an inserted one', async () => {
    // Make room after row 14 and put a copy of it there: everything from 15 on shifts.
    const copy = await copyOfLog(source.db);
    copies.push(copy);
    await copy.tamper.query(`UPDATE audit_event SET id = -id WHERE id > 14`);
    await copy.tamper.query(`UPDATE audit_event SET id = -id + 1 WHERE id < 0`);
    await copy.tamper.query(
      `INSERT INTO audit_event SELECT 15, at, source, operation, action, actor_kind, actor_id,
              roles, device_id, purpose, resource_type, resource_id, patient_ids, outcome,
              reason, request_id, client_address, hash FROM audit_event WHERE id = 14`,
    );
    const report = await verifyAuditLog(copy.db);
    expect(report.firstProblem).toMatchObject({ code: 'hash_mismatch', id: '15' });
  });

  it('finds a row appended behind the writer’s back, beyond the head', async () => {
    const report = await tampered(
      `INSERT INTO audit_event SELECT 31, at, source, operation, action, actor_kind, actor_id,
              roles, device_id, purpose, resource_type, resource_id, patient_ids, outcome,
              reason, request_id, client_address, hash FROM audit_event WHERE id = 30`,
    );
    expect(report.firstProblem).toMatchObject({ code: 'unexpected_row', id: '31' });
  });

  it('names the first of two reordered rows', async () => {
    const copy = await copyOfLog(source.db);
    copies.push(copy);
    await copy.tamper.query(`UPDATE audit_event SET id = -1 WHERE id = 4`);
    await copy.tamper.query(`UPDATE audit_event SET id = 4 WHERE id = 5`);
    await copy.tamper.query(`UPDATE audit_event SET id = 5 WHERE id = -1`);
    const report = await verifyAuditLog(copy.db);
    expect(report.firstProblem).toMatchObject({ code: 'hash_mismatch', id: '4' });
  });

  it('catches an edit whose author rewrote every later hash: the seal no longer matches', async () => {
    const copy = await copyOfLog(source.db);
    copies.push(copy);
    await copy.tamper.query(`UPDATE audit_event SET reason = 'nothing to see' WHERE id = 3`);
    await rechain(copy);
    const report = await verifyAuditLog(copy.db);
    expect(report.firstProblem).toMatchObject({ code: 'seal_mismatch', seal: '1', id: '10' });
  });

  it('catches a changed seal entry', async () => {
    const report = await tampered(`UPDATE audit_seal SET root = sha256(root) WHERE seq = 1`);
    expect(report.problems).toContainEqual(
      expect.objectContaining({ code: 'seal_chain_broken', seal: '1' }),
    );
  });

  it('catches a removed seal entry', async () => {
    const report = await tampered(`DELETE FROM audit_seal WHERE seq = 1`);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ code: 'seal_chain_broken' }));
  });
});

/** What a forger would do: recompute every hash from the first row on, and the head. */
async function rechain(copy: TestDatabase) {
  const { canonicalRow, chainHash, genesisHash } = await import('../src/canonical.ts');
  const { rows } = await copy.db.query<Record<string, unknown>>(
    `SELECT id::text AS id, to_json(at)#>>'{}' AS at, source, operation, action,
            actor_kind AS "actorKind", actor_id AS "actorId", roles, device_id AS "deviceId",
            purpose, resource_type AS "resourceType", resource_id AS "resourceId",
            patient_ids::text[] AS "patientIds", outcome, reason, request_id AS "requestId",
            client_address AS "clientAddress"
       FROM audit_event ORDER BY audit_event.id`,
  );
  let previous = genesisHash;
  for (const row of rows) {
    const record = { ...row, at: new Date(row.at as string).toISOString() };
    previous = chainHash(previous, canonicalRow(record as never));
    await copy.db.query(`UPDATE audit_event SET hash = $2 WHERE id = $1`, [row.id, previous]);
  }
  await copy.db.query(`UPDATE audit_head SET last_hash = $1`, [previous]);
}
