import pg from 'pg';

export type Db = pg.Pool;
export type Tx = pg.PoolClient;
export type Queryable = pg.Pool | pg.PoolClient;

// bigint (int8) columns come back as strings by default; event ids stay strings on purpose
// (they exceed 2^53 in long-lived installations), counts are cast to int in SQL.

export interface DbOptions {
  max?: number;
  /**
   * A role every connection of the pool takes on at start-up (`SET ROLE` as a connection
   * option, so a role the login may not take fails the connection instead of silently keeping
   * the login's rights): `medaxis_app` for the server and the worker, which may not change
   * or delete audit rows (prisma/migrations/…_audit).
   */
  role?: string | undefined;
}

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  if (options.role && !/^[a-z_][a-z0-9_]*$/.test(options.role)) {
    throw new Error(`invalid database role name: ${options.role}`);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    ...(options.role ? { options: `-c role=${options.role}` } : {}),
  });
  // A client losing its connection (a restart, pg_terminate_backend) must not crash the
  // process. Idle, the pool reports it here and drops the client. Checked out between two
  // queries of a transaction, the client itself emits the error, which unheard would be an
  // uncaught exception: its next query fails instead, and the caller handles that.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

const retryableCodes = new Set(['40001', '40P01']);

/**
 * A serialization failure or a deadlock: PostgreSQL asking for the transaction to be tried
 * again, not an error of the work itself.
 */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && retryableCodes.has(code);
}

/**
 * Runs `work` in one transaction. Serialization failures and deadlocks are retried a few
 * times: they are PostgreSQL telling us to try again, not errors of the caller.
 */
export async function withTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      if (attempt < 4 && isRetryableError(error)) continue;
      throw error;
    } finally {
      client.release();
    }
  }
}

export type SqlValue = string | number | boolean | Date | null | undefined | readonly SqlValue[];

/**
 * A value as an SQL literal, for statements sent as plain text (the simple query protocol,
 * which carries no parameters but takes several statements in one round trip): NULL, a
 * quoted and escaped string (pg's escapeLiteral), a timestamp, or an array literal. The
 * statement casts where the type matters, as it would a parameter.
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::timestamptz`;
  if (Array.isArray(value)) return pg.escapeLiteral(arrayText(value));
  return pg.escapeLiteral(String(value));
}

function arrayText(values: readonly SqlValue[]): string {
  const elements = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) throw new Error('nested arrays are not supported');
    const text = value instanceof Date ? value.toISOString() : String(value);
    return `"${text.replace(/["\\]/g, '\\$&')}"`;
  });
  return `{${elements.join(',')}}`;
}

/**
 * A parameterised statement ($1, $2 …) as plain text with its values inlined, in one pass (a
 * value that itself contains "$2" is never substituted into again).
 */
export function inlineParams(sql: string, params: readonly SqlValue[]): string {
  return sql.replace(/\$(\d+)/g, (_, index: string) => sqlLiteral(params[Number(index) - 1]));
}

/**
 * Runs statements in one round trip (the simple query protocol), in order, each with its own
 * snapshot as if sent one by one; returns one result per statement. The first that fails
 * abandons the rest and fails the call.
 */
export async function queryStatements(tx: Tx, statements: readonly string[]) {
  if (statements.length === 0) return [];
  const results = (await tx.query(statements.join(';\n'))) as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(results) ? results : [results];
}
