import {
  ensureBed,
  ensureDepartment,
  ensureRoom,
  ensureSite,
  loadHl7Message,
  readEventsAfter,
} from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Hl7Processor, readAck, type Hl7AuditSink } from '../src/index.ts';

// Frames that arrive together are applied in one transaction (process.ts): each message must
// still end exactly as if it had arrived alone.

let test: TestDatabase;
let processor: Hl7Processor;
const audited: string[] = [];

function message(control: string, event: string, visit: string, bed: string, minute: number) {
  const time = `2026120110${String(minute).padStart(2, '0')}00+0000`;
  return Buffer.from(
    [
      `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|${time}||ADT^${event}^ADT_A01|${control}|P|2.5`,
      `EVN|${event}|${time}`,
      `PID|1||M-${visit}^^^NGH^MR||Doe^Jane||19800101|F`,
      `PV1|1|I|MED^01^${bed}||||||||||||||||${visit}`,
    ].join('\r'),
  );
}

beforeAll(async () => {
  test = await createTestDatabase('hl7_batch');
  const site = await ensureSite(test.db, { code: 'NGH', name: 'Northgate', timeZone: 'UTC' });
  const department = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Medicine',
    kind: 'ward',
  });
  const room = await ensureRoom(test.db, department, '01');
  for (const bed of ['A', 'B', 'C', 'D']) {
    await ensureBed(test.db, { roomId: room, code: `MED-01-${bed}`, since: new Date(0) });
  }
  const audit: Hl7AuditSink = {
    record: (event) => {
      audited.push(event.resourceId);
      return Promise.resolve();
    },
  };
  processor = new Hl7Processor(test.db, { now: () => new Date('2026-12-01T12:00:00Z'), audit });
});

afterAll(async () => {
  await test?.drop();
});

describe('HL7 messages that arrive together', () => {
  it('apply in order, each on its own: a refused one rolls back alone, a copy is a duplicate', async () => {
    const admit = message('b1', 'A01', 'V-1', 'A', 1);
    const frames = [
      admit,
      message('b2', 'A01', 'V-2', 'A', 2), // bed A is taken by V-1 now: refused
      message('b3', 'A02', 'V-1', 'B', 3),
      admit, // the same bytes again: an exact retransmission
      message('b5', 'A01', 'V-2', 'C', 4),
    ];
    const acked: string[] = [];

    const results = await processor.receive(frames, 'test', (result) => {
      acked.push(readAck(result.ack).code);
    });

    expect(acked).toEqual(['AA', 'AE', 'AA', 'AA', 'AA']);
    expect(results.map((result) => result.messages[0]!.outcome.status)).toEqual([
      'applied',
      'rejected',
      'applied',
      'duplicate',
      'applied',
    ]);
    const [first, refused, transfer, copy, second] = results.map((result) => result.ids[0]!);
    expect((await loadHl7Message(test.db, refused!))?.errorReason).toBe('bed_occupied');
    expect((await loadHl7Message(test.db, copy!))?.duplicateOf).toBe(first);
    // The refused admission left no visit, patient stay or event behind.
    const { rows } = await test.db.query(`SELECT 1 FROM bed_stay s JOIN encounter e
      ON e.id = s.encounter_id WHERE e.source_ref = 'V-2' AND s.bed_id IN
      (SELECT id FROM bed WHERE code = 'MED-01-A')`);
    expect(rows).toHaveLength(0);

    // One event per move, in the order of the messages, each recorded as its message's.
    const events = await readEventsAfter(test.db, '0');
    expect(events.map((event) => event.type)).toEqual(['admit', 'transfer', 'admit']);
    const applied = await Promise.all(
      [first, transfer, second].map((id) => loadHl7Message(test.db, id!)),
    );
    expect(applied.map((row) => row?.appliedEventId)).toEqual(events.map((event) => event.id));
    expect(results[2]!.messages[0]!.outcome.appliedEventId).toBe(events[1]!.id);

    // One transaction recorded every outcome.
    const { rows: writers } = await test.db.query(
      `SELECT DISTINCT xmin::text FROM hl7_message WHERE id = ANY($1::bigint[])`,
      [results.map((result) => result.ids[0])],
    );
    expect(writers).toHaveLength(1);

    // Audited: what applied and the acknowledged copy, in order; not the refusal.
    expect(audited).toEqual([first, transfer, copy, second]);
  });

  it('apply one by one when the batch cannot commit whole (a deadlock at its commit)', async () => {
    // The pool as the processor sees it: the first batch commit fails as a deadlock would.
    let deadlocks = 0;
    const db = new Proxy(test.db, {
      get(pool, property) {
        if (property !== 'connect') return bound(pool, property);
        return async () => {
          const client = await pool.connect();
          return new Proxy(client, {
            get(target, name) {
              if (name !== 'query') return bound(target, name);
              return (text: unknown, ...rest: unknown[]) => {
                const commitsBatch =
                  typeof text === 'string' && text.includes('COMMIT') && text.includes('event');
                if (commitsBatch && deadlocks++ === 0) {
                  return Promise.reject(Object.assign(new Error('deadlock'), { code: '40P01' }));
                }
                return (target.query as (...args: unknown[]) => unknown)(text, ...rest);
              };
            },
          });
        };
      },
    });
    const alone = new Hl7Processor(db, { now: () => new Date('2026-12-01T12:00:00Z') });
    const before = (await readEventsAfter(test.db, '0')).length;

    const results = await alone.receive(
      [message('d1', 'A01', 'V-3', 'D', 10), message('d2', 'A03', 'V-3', 'D', 11)],
      'test',
    );

    expect(results.map((result) => result.messages[0]!.outcome.status)).toEqual([
      'applied',
      'applied',
    ]);
    const events = (await readEventsAfter(test.db, '0')).slice(before);
    expect(events.map((event) => event.type)).toEqual(['admit', 'discharge']);
    const { rows: writers } = await test.db.query(
      `SELECT DISTINCT xmin::text FROM hl7_message WHERE id = ANY($1::bigint[])`,
      [results.map((result) => result.ids[0])],
    );
    expect(writers).toHaveLength(2);
    expect(deadlocks).toBeGreaterThan(1);
  });
});

function bound(target: object, property: string | symbol): unknown {
  const value: unknown = Reflect.get(target, property, target);
  return typeof value === 'function'
    ? (value as (...args: unknown[]) => unknown).bind(target)
    : value;
}
