import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Applies pending Prisma migrations to the database at `url`. Runs the Prisma CLI from the
 * repository root (where prisma.config.ts lives) on the same Node as this process.
 */
export async function migrateDatabase(url: string, rootDir: string): Promise<void> {
  const prismaCli = `${rootDir}/node_modules/prisma/build/index.js`;
  await run(process.execPath, [prismaCli, 'migrate', 'deploy'], {
    cwd: rootDir,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
}
