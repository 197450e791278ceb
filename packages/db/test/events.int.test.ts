import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { appendEvent, readEventsAfter, withTransaction } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('events');
});

afterAll(async () => {
  await test?.drop();
});

describe('event log', () => {
  it('reads events in id order when the ids gain a digit (they were sorted as text)', async () => {
    const appended = await withTransaction(test.db, async (tx) => {
      const ids: string[] = [];
      for (let n = 0; n < 12; n++) {
        ids.push(
          await appendEvent(tx, {
            type: 'test',
            occurredAt: new Date(),
            source: 'test',
            departmentId: null,
            bedId: null,
            encounterId: null,
            payload: { n },
          }),
        );
      }
      return ids;
    });

    const read = await readEventsAfter(test.db, '0', 100);
    const page = await readEventsAfter(test.db, '0', 10);

    expect(read.map((e) => e.id)).toEqual(appended);
    expect(page.map((e) => e.id)).toEqual(appended.slice(0, 10));
  });
});
