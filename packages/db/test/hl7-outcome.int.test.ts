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
