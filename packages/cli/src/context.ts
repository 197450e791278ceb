import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDb, migrateDatabase, resolveDatabase, type Db } from '@medaxis/db';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The database every CLI command works on: DATABASE_URL, or the embedded PostgreSQL that
 * `npm start` uses (started here if it is not running), migrated to the latest schema. With
 * MEDAXIS_DATABASE (and no DATABASE_URL), that database of the embedded server instead,
 * created on first use: history such as MIMIC kept apart from the demo hospital.
 */
export async function openDatabase(
  options: { log?: (message: string) => void } = {},
): Promise<{ db: Db; url: string; close: () => Promise<void> }> {
  const handle = await resolveDatabase({
    rootDir: repoRoot,
    databaseUrl: process.env.DATABASE_URL,
    database: process.env.MEDAXIS_DATABASE || undefined,
    onStart: options.log,
  });
  await migrateDatabase(handle.url, repoRoot);
  const db = createDb(handle.url);
  return {
    db,
    url: handle.url,
    close: async () => {
      await db.end();
      // The last MedAxis process to let go of the embedded database stops it.
      await handle.stop();
    },
  };
}
