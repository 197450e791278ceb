import { randomUUID } from 'node:crypto';

import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  AuditWriter,
  canonicalRow,
  chainHash,
  genesisHash,
  verifyAuditLog,
  type AuditRecord,
} from '../src/index.ts';
import { readEvent } from './support.ts';

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('audit_chain');
});
afterAll(async () => {
  await test.drop();
});

describe('canonical row', () => {
  const record: AuditRecord = {
    id: '42',
    at: '2026-12-03T21:10:00.123Z',
    source: 'api',
    operation: 'patients.get',
    action: 'read',
    actorKind: 'user',
    actorId: 'u1',
    roles: ['charge_nurse', 'clinician'],
    deviceId: null,
    purpose: 'treatment',
    resourceType: 'patient',
    resourceId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    patientIds: ['0f8fad5b-d9cb-469f-a165-70867728950e'],
    outcome: 'allowed',
    reason: null,
    requestId: 'r-1',
    clientAddress: '10.0.0.7',
  };

  it('is the documented JSON array, byte for byte, so other tools can recompute hashes', () => {
    expect(canonicalRow(record)).toBe(
      '["1","42","2026-12-03T21:10:00.123Z","api","patients.get","read","user","u1",' +
        '["charge_nurse","clinician"],null,"treatment","patient",' +
        '"0f8fad5b-d9cb-469f-a165-70867728950e",["0f8fad5b-d9cb-469f-a165-70867728950e"],' +
        '"allowed",null,"r-1","10.0.0.7"]',
    );
  });

  it('chains as sha256(previous hash ‖ canonical row)', () => {
    // A fixed vector, computed apart from this code (Python's hashlib over 32 zero bytes and
    // the string above): if it changes, no stored hash verifies any more.
    expect(chainHash(genesisHash, canonicalRow(record)).toString('hex')).toBe(
      'ce9c19ff5aa68ad8329bfc140cd589fd576b6bde1467d0328716f920a85afcf4',
    );
  });
});

describe('audit writer', () => {
  it('numbers rows from the head without gaps and chains each to the one before', async () => {
    const writer = new AuditWriter(test.db);
    const first = await writer.record(readEvent());
    const second = await writer.record(readEvent());

    expect(BigInt(second.id)).toBe(BigInt(first.id) + 1n);
    const { rows } = await test.db.query<{ id: string; hash: Buffer }>(
      `SELECT id::text AS id, hash FROM audit_event WHERE id IN ($1, $2) ORDER BY audit_event.id`,
      [first.id, second.id],
    );
    expect(rows.map((row) => row.hash.toString('hex'))).toEqual([
      first.hash.toString('hex'),
      second.hash.toString('hex'),
    ]);
    expect((await verifyAuditLog(test.db)).ok).toBe(true);
  });

  it('shares one flush among concurrent requests, each resolved only after commit', async () => {
    const writer = new AuditWriter(test.db);
    const before = writer.flushes;
    const receipts = await Promise.all(
      Array.from({ length: 500 }, () => writer.record(readEvent())),
    );

    const ids = receipts.map((receipt) => Number(receipt.id)).sort((a, b) => a - b);
    expect(ids.at(-1)! - ids[0]!).toBe(499);
    // Every receipt is durable: its row is there for any other connection to read.
    const { rows } = await test.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM audit_event WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    expect(rows[0]!.count).toBe(500);
    expect(writer.flushes - before).toBeLessThan(10);
  });

  it('lets two writers (two server instances) append to one chain', async () => {
    const instanceA = new AuditWriter(test.db);
    const instanceB = new AuditWriter(test.db);
    await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (index % 2 === 0 ? instanceA : instanceB).record(readEvent()),
      ),
    );
    const report = await verifyAuditLog(test.db);
    expect(report.firstProblem).toBeNull();
  });

  it('records the patient of an encounter the caller names', async () => {
    const patient = await test.db.query<{ id: string }>(
      `INSERT INTO patient DEFAULT VALUES RETURNING id::text AS id`,
    );
    const encounter = await test.db.query<{ id: string }>(
      `INSERT INTO encounter (patient_id, class, status) VALUES ($1, 'inpatient', 'planned')
       RETURNING id::text AS id`,
      [patient.rows[0]!.id],
    );
    const writer = new AuditWriter(test.db);
    const receipt = await writer.record(
      readEvent({
        operation: 'adt.admit',
        action: 'write',
        resourceType: 'encounter',
        resourceId: encounter.rows[0]!.id,
        patientIds: [],
        encounterIds: [encounter.rows[0]!.id, 'not-a-uuid'],
      }),
    );
    const { rows } = await test.db.query<{ patients: string[] }>(
      `SELECT patient_ids::text[] AS patients FROM audit_event WHERE id = $1`,
      [receipt.id],
    );
    expect(rows[0]!.patients).toEqual([patient.rows[0]!.id]);
  });

  it('hashes any text exactly as the database returns it, whatever characters it holds', async () => {
    const writer = new AuditWriter(test.db);
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          operation: text,
          actorId: text,
          roles: fc.array(text, { maxLength: 3 }),
          deviceId: fc.option(text),
          reason: fc.option(text),
          clientAddress: fc.option(text),
          patients: fc.array(fc.uuid(), { maxLength: 3 }),
          at: fc.date({
            min: new Date('1970-01-01'),
            max: new Date('2200-01-01'),
            noInvalidDate: true,
          }),
        }),
        async (value) => {
          await writer.record(
            readEvent({
              at: value.at,
              operation: value.operation,
              actor: {
                kind: 'user',
                id: value.actorId,
                roles: value.roles,
                deviceId: value.deviceId,
              },
              patientIds: value.patients.map((id) => id.toUpperCase()),
              reason: value.reason,
              clientAddress: value.clientAddress,
            }),
          );
        },
      ),
      { numRuns: 150 },
    );
    const report = await verifyAuditLog(test.db);
    expect(report.firstProblem).toBeNull();
    expect(report.liveRows).toBeGreaterThan(850);
  });

  it('refuses an event it cannot record faithfully, without failing the others', async () => {
    const writer = new AuditWriter(test.db);
    const bad = writer.record(readEvent({ at: new Date(Date.UTC(12_000, 0, 1)) }));
    const good = writer.record(readEvent({ requestId: randomUUID() }));
    await expect(bad).rejects.toThrow(/out of range/);
    await expect(good).resolves.toMatchObject({ id: expect.any(String) });
  });
});
