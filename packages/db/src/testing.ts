import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { migrateDatabase } from './migrate.ts';
import { createDb, type Db } from './pool.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The real public files tests read (../shared/realdata beside the checkout, never copied
 * into it); MEDAXIS_REALDATA names another place, e.g. for a clone made elsewhere.
 */
export const realdataDir = process.env.MEDAXIS_REALDATA ?? join(repoRoot, '../shared/realdata');

/** The server tests create their databases on: CI's and developers' PostgreSQL by default. */
export function testServerUrl(): string {
  return process.env.MEDAXIS_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file. Migrations run once into a template named by
 * the hash of the migration files; each test file then clones it, which takes milliseconds.
 */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `medaxis_${label.replace(/\W/g, '_').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(testServerUrl(), name);
  const db = createDb(url);
  return {
    url,
    db,
    drop: async () => {
      await db.end();
      const cleanup = new pg.Client({ connectionString: testServerUrl() });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

async function ensureTemplate(): Promise<string> {
  const name = `medaxis_template_${migrationsHash()}`;
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    // Test files start in parallel: one of them builds the template, the others wait.
    await admin.query(`SELECT pg_advisory_lock(hashtext('medaxis_test_template'))`);
    const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      await migrateDatabase(withDatabase(testServerUrl(), building), repoRoot);
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    }
    return name;
  } finally {
    await admin.query(`SELECT pg_advisory_unlock(hashtext('medaxis_test_template'))`);
    await admin.end();
  }
}

function migrationsHash(): string {
  const dir = join(repoRoot, 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (entry.endsWith('.sql')) hash.update(entry).update(readFileSync(join(dir, entry)));
  }
  return hash.digest('hex').slice(0, 12);
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
