import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  hl7OutcomesStatement,
  insertHl7Raw,
  loadHl7Message,
  readHl7Claim,
  claimHl7MessageStatements,
  withTransaction,
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

describe('HL7 outcome sent with COMMIT', () => {
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
    };

    const status = await withTransaction(
      test.db,
      async (_tx, claimed) => Promise.resolve(readHl7Claim(claimed).status),
      {
        begin: claimHl7MessageStatements(id!, "h'ash\\"),
        commitWith: () => hl7OutcomesStatement([{ id: id!, outcome }]),
      },
    );
    const row = await loadHl7Message(test.db, id!);

    expect(status).toBe('received');
    expect(row).toMatchObject({
      status: 'applied',
      ackCode: 'AA',
      controlId: outcome.controlId,
      eventTime: '2026-12-03T10:11:12.345+00:00',
      sendingFacility: 'O\uFFFDBrien',
      note: outcome.note,
      attempts: 1,
    });
  });

  it('commits nothing when the statement sent with COMMIT fails', async () => {
    const [id] = await insertHl7Raw(test.db, [
      { raw: Buffer.from('MSH|^~\\&|y'), peer: 'test', payloadHash: 'other' },
    ]);

    const attempt = withTransaction(
      test.db,
      async (tx) => {
        await tx.query(`UPDATE hl7_message SET note = 'written' WHERE id = $1`, [id]);
      },
      { commitWith: () => `SELECT 1 / 0` },
    );

    await expect(attempt).rejects.toThrow(/division by zero/);
    expect((await loadHl7Message(test.db, id!))?.note).toBeNull();
  });
});
