import fc from 'fast-check';
import { readAck } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt, hl7Time, startHl7Stack, type Hl7Stack } from './hl7-support.ts';

/**
 * Bad input: 10,000 mutations of real-looking ADT messages over MLLP. The listener must not
 * crash or hang, store every one, and answer every one AA, AE or AR.
 */
const count = 10_000;
const connections = 8;

const at = new Date(Date.now() - 3_600_000);
const time = hl7Time(at);
const corpus = [
  adt({ event: 'A01', controlId: 'F1', at, mrn: 'F-1', visit: 'FV-1', bed: 'MED-01-A' }),
  adt({ event: 'A02', controlId: 'F2', at, mrn: 'F-1', visit: 'FV-1', bed: 'MED-01-B' }),
  adt({ event: 'A03', controlId: 'F3', at, mrn: 'F-2', visit: 'FV-2', bed: 'SUR-01-A' }),
  adt({ event: 'A08', controlId: 'F4', at, mrn: 'F-3', visit: 'FV-3', bed: 'ED-01-A' }),
  adt({ event: 'A11', controlId: 'F5', at, mrn: 'F-1', visit: 'FV-1' }),
  [
    `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|${time}||ADT^A40^ADT_A39|F6|P|2.5`,
    `EVN|A40|${time}`,
    'PID|1||F-4^^^NGH^MR||O\\T\\Brien^Ann',
    'MRG|F-5^^^NGH^MR',
    'ZPV|custom|\\X41\\',
  ].join('\r'),
  [
    `FHS|^~\\&|PAS|NGH|||${time}`,
    `BHS|^~\\&|PAS|NGH|||${time}||||B1`,
    adt({ event: 'A04', controlId: 'F7', at, mrn: 'F-6', visit: 'FV-6', patientClass: 'O' }),
    'BTS|1',
    'FTS|1',
  ].join('\n'),
].map((text) => Buffer.from(text, 'utf8'));

const special = [
  ...'|^~\\&\r\n',
  '\u00e9',
  '\ufeff',
  '\u0000',
  'MSH',
  'EVN',
  'PID',
  'PV1',
  'BHS',
  '\u000b',
].map((text) => Buffer.from(text, 'utf8'));

/** One mutation of a byte string (never an MLLP end byte: senders cannot send one inside). */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat(40) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 12 }),
  }),
  fc.record({
    kind: fc.constant('special' as const),
    at: fc.nat(),
    which: fc.nat(special.length - 1),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.nat(200) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(base: Buffer, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(base);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    switch (m.kind) {
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
        break;
      case 'special':
        bytes = Buffer.concat([bytes.subarray(0, at), special[m.which]!, bytes.subarray(at)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'repeat':
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(at, at + m.length),
          bytes.subarray(at),
        ]);
        break;
      case 'flip':
        if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << m.bit);
        break;
    }
  }
  return Buffer.from(bytes.filter((byte) => byte !== 0x1c));
}

const messages = fc
  .sample(fc.tuple(fc.nat(corpus.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 })), {
    numRuns: count,
    seed: 20261203,
  })
  .map(([base, mutations]) => mutate(corpus[base]!, mutations));

let stack: Hl7Stack;

beforeAll(async () => {
  stack = await startHl7Stack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('mutated HL7 messages over MLLP', () => {
  it(
    `stores and answers all ${count.toLocaleString('en')} with AA, AE or AR`,
    { timeout: 600_000 },
    async () => {
      const codes = new Map<string, number>();
      const clients = await Promise.all(Array.from({ length: connections }, () => stack.connect()));
      await Promise.all(
        clients.map(async (client, lane) => {
          for (let i = lane; i < messages.length; i += connections) {
            const ack = readAck(await client.send(messages[i]!));
            const answered = ack.all.length > 0 ? ack.all.map((one) => one.code) : ['none'];
            for (const code of answered) codes.set(code, (codes.get(code) ?? 0) + 1);
            expect(
              answered.every((code) => ['AA', 'AE', 'AR'].includes(code)),
              `message ${i}`,
            ).toBe(true);
          }
        }),
      );
      await Promise.all(clients.map((client) => client.close()));

      // One row per frame sent (batches add rows for their messages), none left unprocessed.
      const { rows } = await stack.database.db.query<{ frames: number; unprocessed: number }>(
        `SELECT count(*) FILTER (WHERE batch_id IS NULL)::int AS frames,
              count(*) FILTER (WHERE status = 'received')::int AS unprocessed
         FROM hl7_message`,
      );
      expect(rows[0]).toEqual({ frames: count, unprocessed: 0 });
      expect(codes.get('AR')).toBeGreaterThan(0);
      expect(codes.get('AA')).toBeGreaterThan(0);
      // Nothing it received was our fault: no internal errors.
      const internal = await stack.database.db.query(
        `SELECT id FROM hl7_message WHERE error_code = 'INTERNAL'`,
      );
      expect(internal.rowCount).toBe(0);

      // And the listener still serves.
      const healthy = adt({
        event: 'A01',
        controlId: 'AFTER',
        at,
        mrn: 'F-9',
        visit: 'FV-9',
        bed: 'SUR-02-B',
      });
      expect((await stack.send(healthy)).code).toBe('AA');
    },
  );
});
