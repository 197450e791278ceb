import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { Hl7Processor } from '@medaxis/interop';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { actorWith, callerFor } from '../support/callers.ts';
import { seedSmallHospital } from '../support/fixtures.ts';
import { adt } from './hl7/hl7-support.ts';

/*
 * The ADT data-quality queries and the dead-letter view's message procedure, over a hospital
 * that an HL7 feed has left a little of everything: a refused admission, an event that arrived
 * out of order, one that arrived hours late, a new location, a visit without an admit
 * decision, and (written behind the domain's back, as a broken import would) a bed still held
 * by a discharged visit.
 */

let test: TestDatabase;
let processor: Hl7Processor;
const hour = 3_600_000;
const t0 = new Date(Date.now() - 6 * hour);
const at = (hours: number) => new Date(t0.getTime() + hours * hour);
const ids: Record<string, string> = {};

async function send(name: string, message: string) {
  const [frame] = await processor.receive([Buffer.from(message)], 'test');
  ids[name] = frame!.ids[0]!;
  return frame!.messages[0]!.outcome;
}

const admin = () => callerFor(test.db, actorWith(['admin']), 'operations');
const bedManager = () => callerFor(test.db, actorWith(['bed_manager'], '*'), 'operations');

beforeAll(async () => {
  test = await createTestDatabase('data_quality');
  await seedSmallHospital(test.db);
  processor = new Hl7Processor(test.db);

  const admitted = await send(
    'admit',
    adt({ event: 'A01', controlId: 'Q1', at: at(0), mrn: 'M1', visit: 'V1', bed: 'MED-01-A' }),
  );
  expect(admitted.status).toBe('applied');
  await send(
    'transfer',
    adt({ event: 'A02', controlId: 'Q3', at: at(5.8), mrn: 'M1', visit: 'V1', bed: 'MED-01-B' }),
  );
  await send(
    'outOfOrder',
    adt({ event: 'A02', controlId: 'Q4', at: at(5.5), mrn: 'M1', visit: 'V1', bed: 'SUR-01-A' }),
  );
  await send(
    'occupied',
    adt({ event: 'A01', controlId: 'Q2', at: at(5.99), mrn: 'M2', visit: 'V2', bed: 'MED-01-B' }),
  );
  await send(
    'newBed',
    adt({ event: 'A01', controlId: 'Q5', at: at(5.9), mrn: 'M3', visit: 'V3', bed: 'NEW-01-X' }),
  );
  await send(
    'unsupported',
    adt({ event: 'A01', controlId: 'Q6', at: at(5.9), mrn: 'M4', visit: 'V4' }).replace(
      'ADT^A01^ADT_A01',
      'ORU^R01^ORU_R01',
    ),
  );

  // A locations import that kept two rows it could not apply; one has been reprocessed since.
  const { rows: run } = await test.db.query<{ id: number }>(
    `INSERT INTO import_run (kind, source) VALUES ('locations', '/imports/beds.csv') RETURNING id`,
  );
  const { rows: kept } = await test.db.query<{ id: string }>(
    `INSERT INTO import_rejection (run_id, file, row_number, row, code, reason)
     VALUES ($1, '/imports/beds.csv', 3, '{"note": "Ward 9 patient"}', 'unknown_department',
             'No department W9.'),
            ($1, '/imports/beds.csv', 4, '{}', 'unknown_department', 'No department W9.')
     RETURNING id::text`,
    [run[0]!.id],
  );
  ids.openRejection = kept[0]!.id;
  await test.db.query(
    `UPDATE import_rejection SET reprocessed_at = now(), outcome = 'applied' WHERE id = $1`,
    [kept[1]!.id],
  );

  // A visit discharged in the encounter table while its bed still names it and its stay is open.
  await test.db.query(
    `UPDATE encounter SET status = 'finished', discharged_at = $1 WHERE source_ref = 'V3'`,
    [at(5.95)],
  );
});

afterAll(async () => {
  await test?.drop();
});

describe('ADT data quality', () => {
  it('counts each kind of problem the feed left', async () => {
    const { counts } = await bedManager().quality.summary();

    expect(counts).toEqual({
      rejected_messages: 2,
      // The first admission arrived about six hours after it happened.
      late_events: 1,
      out_of_order_events: 1,
      // V1 (admitted by HL7, no decision time); V3 is finished but never had one either.
      missing_admit_decision: 2,
      beds_held_after_discharge: 1,
      // Department NEW and its bed NEW-01-X, created on first use.
      unconfigured_locations: 2,
      // One open rejection of a locations import; the one reprocessed since is not counted.
      rejected_import_rows: 1,
    });
  });

  it('lists the open rejected import rows, by file, row and reason code only', async () => {
    const { items } = await admin().quality.items({ check: 'rejected_import_rows' });

    expect(items).toEqual([
      expect.objectContaining({
        check: 'rejected_import_rows',
        rejectionId: ids.openRejection,
        kind: 'locations',
        file: 'beds.csv',
        rowNumber: 3,
        code: 'unknown_department',
        attempt: 1,
      }),
    ]);
    expect(JSON.stringify(items)).not.toContain('Ward 9 patient');
  });

  it('drills down to the rejected messages, newest first, with their reasons', async () => {
    const { items } = await admin().quality.items({ check: 'rejected_messages' });

    expect(items.map((item) => 'messageId' in item && [item.messageId, item.errorReason])).toEqual([
      [ids.occupied, 'bed_occupied'],
      [ids.outOfOrder, 'before_current_state'],
    ]);
  });

  it('tells late arrivals from events that arrived out of order', async () => {
    const late = await admin().quality.items({ check: 'late_events' });
    const outOfOrder = await admin().quality.items({ check: 'out_of_order_events' });

    expect(late.items).toEqual([
      expect.objectContaining({ messageId: ids.admit, status: 'applied', eventType: 'A01' }),
    ]);
    const delay = (late.items[0] as { delayMinutes: number }).delayMinutes;
    expect(delay).toBeGreaterThanOrEqual(359);
    expect(delay).toBeLessThanOrEqual(361);
    expect(outOfOrder.items).toEqual([
      expect.objectContaining({ messageId: ids.outOfOrder, errorReason: 'before_current_state' }),
    ]);
  });

  it('lists visits without an admit decision time, beds held and new locations', async () => {
    const caller = admin();
    const missing = await caller.quality.items({ check: 'missing_admit_decision' });
    const held = await caller.quality.items({ check: 'beds_held_after_discharge' });
    const locations = await caller.quality.items({ check: 'unconfigured_locations' });

    expect(missing.items).toEqual([
      expect.objectContaining({ status: 'finished', bedCode: 'NEW-01-X' }),
      expect.objectContaining({ status: 'in_progress', bedCode: 'MED-01-B' }),
    ]);
    expect(held.items).toEqual([
      expect.objectContaining({
        bedCode: 'NEW-01-X',
        departmentCode: 'NEW',
        bedStatus: 'occupied',
        encounterStatus: 'finished',
        heldBy: 'both',
      }),
    ]);
    expect(locations.items).toEqual([
      {
        check: 'unconfigured_locations',
        kind: 'department',
        code: 'NEW',
        name: expect.any(String),
        departmentCode: 'NEW',
        roomCode: null,
      },
      {
        check: 'unconfigured_locations',
        kind: 'bed',
        code: 'NEW-01-X',
        name: null,
        departmentCode: 'NEW',
        roomCode: '01',
      },
    ]);
  });

  it('never hands out patient or encounter ids, nor identity', async () => {
    const caller = admin();
    for (const check of [
      'rejected_messages',
      'late_events',
      'out_of_order_events',
      'missing_admit_decision',
      'beds_held_after_discharge',
      'unconfigured_locations',
    ] as const) {
      const text = JSON.stringify(await caller.quality.items({ check }));
      expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
      expect(text).not.toMatch(/Doe|Jane|M1|M2/);
    }
  });

  it('pages through a check', async () => {
    const first = await admin().quality.items({ check: 'rejected_messages', limit: 1 });
    const second = await admin().quality.items({ check: 'rejected_messages', limit: 1, offset: 1 });

    expect(first.items).toHaveLength(1);
    expect(second.items).toHaveLength(1);
    expect(first.items[0]).not.toEqual(second.items[0]);
  });

  it('refuses an unknown check and out-of-range pages as bad input', async () => {
    const caller = admin();
    for (const input of [
      { check: 'everything' },
      { check: 'late_events', limit: 0 },
      { check: 'late_events', offset: -1 },
      { check: 'late_events', extra: true },
    ]) {
      const error: unknown = await caller.quality.items(input as never).catch((e: unknown) => e);
      expect(error instanceof TRPCError && error.code).toBe('BAD_REQUEST');
    }
  });
});

describe('the dead-letter view', () => {
  it('lists messages by outcome: rejected, errored, unsupported, all', async () => {
    const caller = admin();
    const rejected = await caller.hl7.messages({ outcome: 'rejected' });
    const unsupported = await caller.hl7.messages({ outcome: 'unsupported' });
    const errored = await caller.hl7.messages({ outcome: 'errored' });
    const all = await caller.hl7.messages({ outcome: 'all' });

    expect(rejected.messages.map((m) => m.id)).toEqual([ids.occupied, ids.outOfOrder]);
    expect(unsupported.messages.map((m) => m.id)).toEqual([ids.unsupported]);
    expect(errored.messages).toEqual([]);
    expect(all.messages).toHaveLength(6);
    expect(all.outcomes).toEqual({ rejected: 2, errored: 0, unsupported: 1, all: 6 });
  });

  it('shows an administrator the raw message without any patient identity', async () => {
    const { raw, identity, message } = await admin().hl7.message({ id: ids.occupied! });

    expect(identity).toBe('masked');
    expect(message).toMatchObject({ status: 'rejected', errorReason: 'bed_occupied' });
    expect(raw.split('\r')).toEqual([
      expect.stringMatching(/^MSH\|\^~\\&\|PAS\|NGH\|/),
      expect.stringMatching(/^EVN\|A01\|/),
      'PID|1||***||***||***|***',
      'PV1|1|I|MED^01^B||||||||||||||||V2',
    ]);
  });

  it('shows a bed manager the whole message, identity included', async () => {
    const { raw, identity } = await bedManager().hl7.message({ id: ids.occupied! });

    expect(identity).toBe('shown');
    expect(raw).toContain('PID|1||M2^^^NGH^MR||Doe^Jane||19800101|F');
  });

  it('masks identity for a bed manager when the patient is restricted by consent', async () => {
    const { rows } = await test.db.query<{ id: string }>(
      `SELECT patient_id AS id FROM patient_identity WHERE mrn = 'M1'`,
    );
    await test.db.query(
      `INSERT INTO patient_consent (patient_id, policy, action, valid_from, recorded_by)
       VALUES ($1, 'listing', 'restrict', now() - interval '1 day', 'test')`,
      [rows[0]!.id],
    );

    const { raw, identity } = await bedManager().hl7.message({ id: ids.admit! });

    expect(identity).toBe('masked');
    expect(raw).not.toContain('M1');
  });

  it('answers NOT_FOUND for an unknown message and BAD_REQUEST for a malformed id', async () => {
    const caller = admin();
    const missing: unknown = await caller.hl7.message({ id: '999999' }).catch((e: unknown) => e);
    const malformed: unknown = await caller.hl7
      .message({ id: 'x; DROP TABLE' })
      .catch((e: unknown) => e);

    expect(missing instanceof TRPCError && missing.code).toBe('NOT_FOUND');
    expect(malformed instanceof TRPCError && malformed.code).toBe('BAD_REQUEST');
  });

  it('reprocesses a rejected message once its cause is fixed', async () => {
    const caller = bedManager();
    const before = await caller.hl7.reprocess({ id: ids.occupied! });
    expect(before[0]).toMatchObject({ status: 'rejected', errorReason: 'bed_occupied' });

    await send(
      'discharge',
      adt({ event: 'A03', controlId: 'Q7', at: at(5.97), mrn: 'M1', visit: 'V1', bed: 'MED-01-B' }),
    );
    const reprocessing = callerFor(test.db, actorWith(['bed_manager'], '*'), 'operations', {
      requestId: 'reprocess-once-fixed',
    });
    const after = await reprocessing.hl7.reprocess({ id: ids.occupied! });

    expect(after[0]).toMatchObject({ status: 'applied', ackCode: 'AA' });
    // The person who asked is audited for the write, as well as the feed (as the system).
    const { rows } = await test.db.query<{ actorId: string; patients: number }>(
      `SELECT actor_id AS "actorId", cardinality(patient_ids) AS patients FROM audit_event
        WHERE request_id = 'reprocess-once-fixed' AND operation = 'hl7.reprocess'
          AND action = 'write' AND outcome = 'allowed'`,
    );
    expect(rows).toEqual([{ actorId: actorWith(['bed_manager'], '*').id, patients: 1 }]);
  });
});
