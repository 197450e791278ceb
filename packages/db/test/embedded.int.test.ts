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

afterAll(async () => {
  for (const handle of handles) await handle.stop().catch(() => {});
  rmSync(rootDir, { recursive: true, force: true });
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
  });
});
