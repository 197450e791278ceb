import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { withTransaction } from '../src/pool.ts';
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
});
