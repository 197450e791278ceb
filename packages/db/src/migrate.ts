import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

const run = promisify(execFile);

/**
 * Applies pending Prisma migrations to the database at `url`. Runs the Prisma CLI from the
 * repository root (where prisma.config.ts lives) on the same Node as this process. Starting
 * Prisma's schema engine takes seconds, so it is skipped when every migration folder is
 * already recorded as applied: CLI commands then start at once.
 */
export async function migrateDatabase(url: string, rootDir: string): Promise<void> {
  if (await isUpToDate(url, rootDir)) return;
  const prismaCli = join(rootDir, 'node_modules/prisma/build/index.js');
  await run(process.execPath, [prismaCli, 'migrate', 'deploy'], {
    cwd: rootDir,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function isUpToDate(url: string, rootDir: string): Promise<boolean> {
  const wanted = readdirSync(join(rootDir, 'prisma/migrations'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string }>(
      `SELECT migration_name AS name FROM _prisma_migrations
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((row) => row.name));
    return wanted.every((name) => applied.has(name));
  } catch {
    // No migrations table yet (a new database): Prisma decides.
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
