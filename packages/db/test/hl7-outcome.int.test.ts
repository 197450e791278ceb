import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  hl7OutcomesStatement,
  insertHl7Raw,
  loadHl7Message,
  readHl7Claim,
  claimHl7MessageStatements,
  queryStatements,
  type Hl7Outcome,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('hl7_outcome');
});

afterAll(async () => {
  await test?.drop();
});

describe('HL7 outcomes sent with COMMIT', () => {
  it('stores what the message said as sent: quotes, backslashes, "$2" and all', async () => {
    const [id] = await insertHl7Raw(test.db, [
      { raw: Buffer.from('MSH|^~\\&|x'), peer: 'test', payloadHash: "h'ash\\" },
    ]);
    const outcome: Hl7Outcome = {
      status: 'applied',
      ackCode: 'AA',
      controlId: `it's $2 \\E\\ $16`,
      messageType: 'ADT',
      eventType: 'A01',
      eventTime: new Date('2026-12-03T10:11:12.345Z'),
      sendingFacility: 'O\u0000Brien',
      note: 'a; b; COMMIT; $1',
      zSegments: [{ name: 'ZXY', text: `ZXY|'quoted'|back\\slash` }],
      appliedEventId: '7',
    };

    const client = await test.db.connect();
    let claimed;
    try {
      const results = await queryStatements(client, [
        'BEGIN',
        ...claimHl7MessageStatements(id!, "h'ash\\"),
        hl7OutcomesStatement([{ id: id!, outcome }]),
        'COMMIT',
      ]);
      claimed = readHl7Claim(results.slice(1, 3));
    } finally {
      client.release();
    }
    const row = await loadHl7Message(test.db, id!);

    expect(claimed.status).toBe('received');
    expect(row).toMatchObject({
      status: 'applied',
      ackCode: 'AA',
      controlId: outcome.controlId,
      eventTime: '2026-12-03T10:11:12.345+00:00',
      sendingFacility: 'O\uFFFDBrien',
      note: outcome.note,
      attempts: 1,
      appliedEventId: '7',
    });
  });
});

describe('the look for an applied copy of a claimed message', () => {
  // Reported: with the plain payload_hash index, a planner without statistics (autovacuum off,
  // or a young table) ANDed it with the (status, id) index and read every applied message's
  // entry for each message the feed claimed, so the feed slowed as its log grew.
  it('reads one hash in the partial index, however many messages are applied', async () => {
    await test.db.query(
      `INSERT INTO hl7_message (raw, peer, payload_hash, status)
       SELECT 'MSH|x'::bytea, 'test', md5(n::text), 'applied'
         FROM generate_series(1, 20000) AS n`,
    );
    const [, findCopy] = claimHl7MessageStatements('1', md5Of(20000));
    // Plain text, planned on each call (a plan kept from a small log could walk (status, id)).
    expect(typeof findCopy).toBe('string');

    const { rows } = await test.db.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${findCopy as string}`,
    );
    const plan = JSON.stringify(rows[0]!['QUERY PLAN']);

    expect(plan).toContain('"Index Name":"hl7_message_applied_copy_idx"');
    expect(plan).not.toContain('hl7_message_status_id_idx');
    // The copy is found: the 20,000th row carries that hash.
    const copy = await test.db.query(findCopy as string);
    expect(copy.rows).toHaveLength(1);
  });
});

function md5Of(n: number) {
  return createHash('md5').update(String(n)).digest('hex');
}
