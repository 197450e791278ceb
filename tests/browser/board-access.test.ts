/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type ConnectAs, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A signed-in person's browser at wall size, on `path`; counts the snapshot requests. */
async function openAs(as: ConnectAs, path: string) {
  const { username, password } = await stack.connect(as).credentials;
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const snapshots = { count: 0 };
  page.on('request', (request) => {
    if (request.url().includes('board.snapshot')) snapshots.count += 1;
  });
  await page.goto(`${stack.baseUrl}/login?next=${encodeURIComponent(path)}`);
  await page.locator('input[name="username"]').fill(username!);
  await page.locator('input[name="password"]').fill(password!);
  await page.locator('[data-login-form] button[type="submit"]').click();
  return { page, snapshots };
}

const unavailable = (page: Page) => page.locator('[data-board-unavailable]');

describe('a board the viewer may not see, or that does not exist', () => {
  // Reported: "Cannot load the board from the server — retrying…" forever over an empty board.
  it('tells a charge nurse another ward’s board is not theirs, and stops asking', async () => {
    const { page, snapshots } = await openAs(
      { role: 'charge_nurse', departments: ['MED'] },
      '/board/SUR',
    );

    await unavailable(page).waitFor({ timeout: 15_000 });
    expect(await unavailable(page).getAttribute('data-board-unavailable')).toBe('forbidden');
    expect(await unavailable(page).locator('h1').textContent()).toContain(
      'This board is not available to you',
    );
    expect(await page.locator('[data-connection-banner]').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'MED board' }).getAttribute('href')).toBe(
      '/board/MED',
    );
    // The quick retries came every 1, 2, 4 s: over 8 s the board asks once, no more.
    await page.waitForTimeout(8_000);
    expect(snapshots.count).toBe(1);

    await page.getByRole('link', { name: 'MED board' }).click();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    await page.close();
  });

  // Reported: "No department “NOPE” on this site — retrying…", retried forever.
  it('says there is no such department, with a way to the boards', async () => {
    const { page, snapshots } = await openAs({ role: 'bed_manager' }, '/board/NOPE');

    await unavailable(page).waitFor({ timeout: 15_000 });
    expect(await unavailable(page).getAttribute('data-board-unavailable')).toBe('not_found');
    expect(await unavailable(page).locator('h1').textContent()).toContain(
      'No department NOPE here',
    );
    await page.waitForTimeout(8_000);
    expect(snapshots.count).toBe(1);

    await page.getByRole('link', { name: 'The boards you may see' }).click();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).pathname).toBe('/board');
    await page.close();
  });
});

describe('department codes in the address', () => {
  // Reported: /board/icu failed while /board/ICU worked.
  it('opens /board/med as /board/MED, keeping the display options', async () => {
    const { page, snapshots } = await openAs({ role: 'bed_manager' }, '/board/med?page=1');

    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => new URL(page.url()).pathname).toBe('/board/MED');
    expect(new URL(page.url()).search).toBe('?page=1');
    // Reported: the display went blank and reconnected when its address was corrected. The
    // same board under its canonical code is not remounted: it keeps its one snapshot.
    await page.waitForTimeout(1_000);
    expect(await page.locator('[data-department="MED"]').count()).toBe(1);
    expect(snapshots.count).toBe(1);
    await page.close();
  });

  it('still refuses a ward’s user another ward, whatever the case', async () => {
    const { page } = await openAs({ role: 'charge_nurse', departments: ['MED'] }, '/board/sur');

    await unavailable(page).waitFor({ timeout: 15_000 });
    expect(await unavailable(page).getAttribute('data-board-unavailable')).toBe('forbidden');
    expect(await page.locator('[data-bed-code]').count()).toBe(0);
    await page.close();
  });
});
