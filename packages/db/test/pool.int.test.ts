import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  bind,
  createDb,
  prepared,
  queryStatements,
  withTransaction,
  type Tx,
} from '../src/pool.ts';
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

describe('prepared statements', () => {
  const findBed = prepared(
    'test_pool_find_bed',
    `SELECT id, code FROM bed WHERE id = ANY($1::int[]) ORDER BY id`,
  );

  async function onOneConnection<T>(db: typeof test.db, work: (tx: Tx) => Promise<T>) {
    const client = await db.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  const settings = (tx: Tx) =>
    tx
      .query<{ plan: string; seqscan: string }>(
        `SELECT current_setting('plan_cache_mode') AS plan,
                current_setting('enable_seqscan') AS seqscan`,
      )
      .then(({ rows }) => rows[0]!);

  it('are prepared once per connection and run on a generic plan, among plain text', async () => {
    await onOneConnection(test.db, async (tx) => {
      for (let call = 0; call < 7; call++) {
        const [before, found, after] = await queryStatements(tx, [
          `SELECT 'before' AS text`,
          bind(findBed, [[1, 2]]),
          `SELECT 'after' AS text`,
        ]);
        expect(before!.rows).toEqual([{ text: 'before' }]);
        expect(found!.rows).toEqual([]);
        expect(after!.rows).toEqual([{ text: 'after' }]);
      }
      const { rows } = await tx.query(
        `SELECT generic_plans::int AS generic, custom_plans::int AS custom
           FROM pg_prepared_statements WHERE name = 'test_pool_find_bed'`,
      );
      // Left to choose, an array value would have been planned anew on every call.
      expect(rows).toEqual([{ generic: 7, custom: 0 }]);
      // The settings the statements ran under are the session's no longer.
      expect(await settings(tx)).toEqual({ plan: 'auto', seqscan: 'on' });
    });
  });

  it('leave no setting behind when a statement fails and is rolled back', async () => {
    await onOneConnection(test.db, async (tx) => {
      await tx.query('BEGIN');
      await tx.query('SAVEPOINT probe');
      await expect(queryStatements(tx, [bind(findBed, [[1]]), `SELECT 1 / 0`])).rejects.toThrow(
        /division by zero/,
      );
      await tx.query('ROLLBACK TO SAVEPOINT probe');
      expect(await settings(tx)).toEqual({ plan: 'auto', seqscan: 'on' });
      await tx.query('ROLLBACK');
      expect(await settings(tx)).toEqual({ plan: 'auto', seqscan: 'on' });
    });
  });

  it('run as plain text on a pool told not to prepare (behind a transaction pooler)', async () => {
    const db = createDb(test.url, { max: 1, preparedStatements: false });
    try {
      await onOneConnection(db, async (tx) => {
        const [found] = await queryStatements(tx, [bind(findBed, [[1]])]);
        expect(found!.rows).toEqual([]);
        const { rows } = await tx.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`);
        expect(rows[0]!.n).toBe(0);
      });
    } finally {
      await db.end();
    }
  });

  it('cannot give one name to two texts', () => {
    expect(() => prepared('test_pool_find_bed', 'SELECT 1')).toThrow(/two statements/);
    expect(() => prepared('Bad-Name', 'SELECT 1')).toThrow(/invalid statement name/);
  });
});
