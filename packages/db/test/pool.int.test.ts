import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { preparedStatement, queryStatements, withTransaction } from '../src/pool.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('pool');
});

afterAll(async () => {
  await test?.drop();
});

describe('database pool', () => {
  it('survives a connection terminated mid-transaction, and serves the next one', async () => {
    // Fault seen under bench:hl7: a backend terminated while its client was checked out
    // between two queries emitted an unheard 'error' event and crashed the server.
    const outcome = withTransaction(test.db, async (tx) => {
      const { rows } = await tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
      await test.db.query(`SELECT pg_terminate_backend($1)`, [rows[0]!.pid]);
      // The termination arrives while no query of this client is running.
      await sleep(200);
      return tx.query(`SELECT 1`);
    });

    await expect(outcome).rejects.toThrow();
    const { rows } = await test.db.query<{ one: number }>(`SELECT 1 AS one`);
    expect(rows[0]!.one).toBe(1);
  });

  it('prepares a statement on first use per connection, also after a failed round trip', async () => {
    const double = preparedStatement('medaxis_test_double', ['int'], 'SELECT $1 * 2 AS n');
    const client = await test.db.connect();
    try {
      const [first] = await queryStatements(client, [double([2])]);
      // A round trip that fails after a first use: the PREPARE before it still stands.
      const other = preparedStatement('medaxis_test_triple', ['int'], 'SELECT $1 * 3 AS n');
      await expect(queryStatements(client, [other([1]), 'SELECT 1 / 0'])).rejects.toThrow();
      const [again, tripled] = await queryStatements(client, [double([4]), other([5])]);
      const { rows } = await client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_prepared_statements WHERE name LIKE 'medaxis%'`,
      );

      expect([first?.rows, again?.rows, tripled?.rows]).toEqual([
        [{ n: 4 }],
        [{ n: 8 }],
        [{ n: 15 }],
      ]);
      expect(rows[0]?.count).toBe(2);
    } finally {
      client.release();
    }
  });
});
