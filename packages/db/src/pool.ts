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
  /**
   * Whether the pool's connections keep prepared statements (default true): the statements
   * the hot paths run (`prepared`) are then parsed and planned once per connection instead of
   * once per call. Turn it off behind a pooler that hands one session's statements to another
   * connection (PgBouncer in transaction mode): they are then sent as plain text.
   */
  preparedStatements?: boolean | undefined;
}

/** The prepared statements each connection holds (only connections of pools that prepare). */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();

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
  pool.on('connect', (client) => {
    client.on('error', () => {});
    if (options.preparedStatements !== false) preparedOn.set(client, new Set());
  });
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

export type SqlValue =
  string | number | boolean | Date | Buffer | null | undefined | readonly SqlValue[];

/**
 * A value as an SQL literal, for statements sent as plain text (the simple query protocol,
 * which carries no parameters but takes several statements in one round trip): NULL, a
 * quoted and escaped string (pg's escapeLiteral), a timestamp, bytes (bytea's hex form), or
 * an array literal. The statement casts where the type matters, as it would a parameter.
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::timestamptz`;
  if (Buffer.isBuffer(value)) return `${pg.escapeLiteral(`\\x${value.toString('hex')}`)}::bytea`;
  if (Array.isArray(value)) return pg.escapeLiteral(arrayText(value));
  return pg.escapeLiteral(String(value));
}

function arrayText(values: readonly SqlValue[]): string {
  const elements = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) throw new Error('nested arrays are not supported');
    let text: string;
    if (value instanceof Date) text = value.toISOString();
    else if (Buffer.isBuffer(value)) text = `\\x${value.toString('hex')}`;
    else text = String(value);
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
 * A statement a hot path runs over and over: on a connection of a pool that prepares
 * (createDb), PostgreSQL parses and plans it once (PREPARE) and then only executes it
 * (EXECUTE), where the same text sent with its values inlined is parsed and planned on every
 * call, about half of what a short statement costs the database. It always runs on its
 * generic plan (see queryStatements), so it must be one whose plan does not depend on its
 * values: a lookup by key, not a search with optional filters. The name is the statement's on
 * every connection; one name, one text.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly sql: string;
}

const preparedTexts = new Map<string, string>();

export function prepared(name: string, sql: string): PreparedStatement {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid statement name: ${name}`);
  const known = preparedTexts.get(name);
  if (known !== undefined && known !== sql) {
    throw new Error(`two statements are named ${name}`);
  }
  preparedTexts.set(name, sql);
  return { name, sql };
}

/** A prepared statement with its values, to run in queryStatements. */
export interface BoundStatement {
  readonly statement: PreparedStatement;
  readonly params: readonly SqlValue[];
}

export function bind(statement: PreparedStatement, params: readonly SqlValue[]): BoundStatement {
  return { statement, params };
}

/** A statement for queryStatements: plain text, or a prepared statement with its values. */
export type Statement = string | BoundStatement;

/**
 * Runs statements in one round trip (the simple query protocol), in order, each with its own
 * snapshot as if sent one by one; returns one result per statement. The first that fails
 * abandons the rest and fails the call.
 *
 * A bound statement runs as EXECUTE on a connection that prepares, else as plain text. It is
 * prepared first, once per connection, in a round trip of its own (PREPARE outlives a rolled
 * back transaction, so what succeeded stays known), and executed on a plan made once and
 * kept, which must stay right however the tables grow: a plan made at a server's first call,
 * on tables still small or without statistics, would otherwise scan or hash a whole table on
 * every call for good (seen in bench:hl7: the boards' occupant read hashed every bed stay).
 * So the round trip runs under settings that give the plan the shape a prepared statement's
 * must have, a lookup by key: the generic plan always (left to choose, PostgreSQL plans a
 * statement with an array value, `id = ANY($1)`, anew on every call, costing the generic plan
 * for ten elements against one for the value given, though both are the same index scan),
 * index scans where an index serves, nested loops for joins. They are the session's until
 * reset at the round trip's end; a statement that fails leaves them to the rollback, which
 * undoes them.
 */
export async function queryStatements(tx: Tx, statements: readonly Statement[]) {
  if (statements.length === 0) return [];
  const preparedHere = preparedOn.get(tx);
  const executes = preparedHere !== undefined && statements.some((s) => typeof s !== 'string');
  if (executes) {
    for (const statement of statements) {
      if (typeof statement === 'string' || preparedHere.has(statement.statement.name)) continue;
      const { name, sql } = statement.statement;
      await tx.query(`PREPARE ${name} AS ${sql}`);
      preparedHere.add(name);
    }
  }
  const texts = statements.map((statement) => {
    if (typeof statement === 'string') return statement;
    return executes
      ? executeText(statement)
      : inlineParams(statement.statement.sql, statement.params);
  });
  if (executes) texts.unshift(...keptPlanSettings.map(([name, value]) => `SET ${name} = ${value}`));
  if (executes) texts.push(...keptPlanSettings.map(([name]) => `RESET ${name}`));

  const answer = (await tx.query(texts.join(';\n'))) as pg.QueryResult | pg.QueryResult[];
  const results = Array.isArray(answer) ? answer : [answer];
  return executes ? results.slice(keptPlanSettings.length, -keptPlanSettings.length) : results;
}

/** The settings prepared statements run under (queryStatements). */
const keptPlanSettings = [
  ['plan_cache_mode', 'force_generic_plan'],
  ['enable_seqscan', 'off'],
  ['enable_hashjoin', 'off'],
  ['enable_mergejoin', 'off'],
] as const;

/**
 * One prepared statement on a pool or on a connection (a pool lends one of its connections
 * for it), with its result.
 */
export async function queryPrepared<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  db: Queryable,
  statement: PreparedStatement,
  params: readonly SqlValue[],
): Promise<pg.QueryResult<Row>> {
  const run = async (tx: Tx) =>
    (await queryStatements(tx, [bind(statement, params)]))[0] as pg.QueryResult<Row>;
  if (!(db instanceof pg.Pool)) return run(db);
  const client = await db.connect();
  try {
    return await run(client);
  } finally {
    client.release();
  }
}

/** EXECUTE of a bound statement, its values inlined (on a connection that prepared it). */
export function executeText({ statement, params }: BoundStatement): string {
  return params.length === 0
    ? `EXECUTE ${statement.name}`
    : `EXECUTE ${statement.name}(${params.map(sqlLiteral).join(', ')})`;
}
