import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { resolveDatabase, type DatabaseHandle } from '../src/embedded.ts';

const rootDir = mkdtempSync(join(tmpdir(), 'medaxis-embedded-'));
// As root, PostgreSQL runs as `postgres`, which must reach the data folder inside.
chmodSync(rootDir, 0o755);
const handles: DatabaseHandle[] = [];
const roots = [rootDir];

// Stops what a failed test left running (a test that stops its handles takes them off).
afterAll(async () => {
  for (const handle of handles) await handle.stop().catch(() => {});
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

describe('the embedded database', () => {
  it('keeps running while another process uses it; the last one to let go stops it', async () => {
    // Fault found by a first-run trial: stopping the `npm start` that had started it stopped
    // the database under a second `npm start` (or `medaxis simulate`) that had joined it.
    const first = await resolveDatabase({ rootDir, port: 54990 });
    handles.push(first);
    const second = await resolveDatabase({ rootDir, port: 54990 });
    handles.push(second);
    expect([first.embedded, second.embedded]).toEqual([true, false]);

    const stillWorking = new pg.Client({ connectionString: second.url });
    await stillWorking.connect();
    expect(await first.stop()).toBe('left_running');
    expect((await stillWorking.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await stillWorking.end();

    expect(await second.stop()).toBe('stopped');
    expect(await answers(second.url)).toBe(false);
    handles.splice(handles.indexOf(first), 2);
  });
});

describe('a named database on the embedded server', () => {
  // Reported: the README said to import MIMIC "into a database of its own", but the embedded
  // server offered no way to get one without reading the source for its password and port.
  it('is created on first use, then joined, on the same server as the default one', async () => {
    const ownRoot = mkdtempSync(join(tmpdir(), 'medaxis-embedded-named-'));
    chmodSync(ownRoot, 0o755);
    roots.push(ownRoot);
    const options = { rootDir: ownRoot, port: 54991, database: 'mimic_history' };
    const first = await resolveDatabase(options);
    handles.push(first);
    const again = await resolveDatabase(options);
    handles.push(again);

    expect(new URL(first.url).pathname).toBe('/mimic_history');
    expect(again.url).toBe(first.url);
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
    await client.end();
    expect(rows[0]!.name).toBe('mimic_history');

    expect(await again.stop()).toBe('stopped');
    expect(await first.stop()).toBe('stopped');
    expect(await answers(first.url)).toBe(false);
    handles.splice(handles.indexOf(first), 2);
  });

  it('refuses a name that is not a plain identifier, before starting anything', async () => {
    await expect(
      resolveDatabase({ rootDir, port: 54992, database: 'mimic; DROP DATABASE medaxis' }),
    ).rejects.toThrow('invalid database name');
    expect(await answers('postgresql://postgres:postgres@127.0.0.1:54992/medaxis')).toBe(false);
  });
});
