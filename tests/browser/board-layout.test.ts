/// <reference lib="dom" />
// page.evaluate callbacks run in the browser.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { ensureBed, ensureDepartment, ensureRoom, getSite } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedDemoHospital } from '../../packages/cli/src/seed/index.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';
import { newDisplayPage } from './display.ts';

let stack: Stack;
let browser: Browser;
let bedCount: number;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  const db = stack.database.db;
  ({ beds: bedCount } = await seedDemoHospital(db));
  // An open unit of 40 beds in one room, as an import may create: taller than a column.
  const site = await getSite(db);
  const unit = await ensureDepartment(db, site!.id, {
    code: 'OPEN',
    name: 'Open unit',
    kind: 'other',
  });
  const room = await ensureRoom(db, unit, 'BAY');
  for (let n = 1; n <= 40; n++) await ensureBed(db, { roomId: room, code: `OPEN-${n}` });
  bedCount += 40;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** What a wall display shows of page `n`: what is cut off, and which beds it holds. */
async function inspectPage(page: Page, n: number) {
  return page.locator(`[data-page-index="${n}"]`).evaluate((element) => {
    const viewport = document.documentElement.getBoundingClientRect();
    const problems: string[] = [];
    const codes: string[] = [];
    for (const tile of element.querySelectorAll<HTMLElement>('[data-bed-code]')) {
      const code = tile.dataset.bedCode!;
      codes.push(code);
      const box = tile.getBoundingClientRect();
      if (box.bottom > viewport.bottom + 0.5 || box.right > viewport.right + 0.5) {
        problems.push(`${code} off screen`);
      }
      if (tile.scrollHeight > tile.clientHeight + 1) problems.push(`${code} text cut vertically`);
      const state = tile.querySelector<HTMLElement>('.state')!;
      if (state.scrollWidth > state.clientWidth + 1) problems.push(`${code} state word cut`);
    }
    const card = element.querySelectorAll<HTMLElement>('section');
    for (const section of card) {
      const box = section.getBoundingClientRect();
      if (box.bottom > viewport.bottom + 0.5) problems.push(`${section.dataset.department} cut`);
    }
    return { problems, codes };
  });
}

describe('wall board layout with the demo hospital', () => {
  for (const size of [
    { width: 1920, height: 1080 },
    { width: 3840, height: 2160 },
    { width: 1280, height: 1024 },
  ]) {
    it(`pages through every bed at ${size.width}×${size.height}, nothing cut off`, async () => {
      const page = await newDisplayPage(browser, stack, size);
      await page.goto(`${stack.baseUrl}/board?page=1`);
      await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
      const pageCount = Number(
        await page.locator('[data-page-count]').getAttribute('data-page-count'),
      );
      expect(pageCount).toBeGreaterThan(1);

      const seen: string[] = [];
      for (let n = 1; n <= pageCount; n++) {
        await page.goto(`${stack.baseUrl}/board?page=${n}`);
        await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
        expect(await page.locator('[data-page-label]').textContent()).toBe(
          `page ${n} of ${pageCount}`,
        );
        const { problems, codes } = await inspectPage(page, n);
        expect(problems).toEqual([]);
        seen.push(...codes);
      }

      expect(seen).toHaveLength(bedCount);
      expect(new Set(seen).size).toBe(bedCount);
      expect(
        await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight),
      ).toBe(true);
      await page.close();
    });
  }

  it('turns the pages by itself', async () => {
    const page = await newDisplayPage(browser, stack, { width: 1920, height: 1080 });
    await page.goto(`${stack.baseUrl}/board?dwell=3`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    const board = page.locator('[data-page]');
    const first = await board.getAttribute('data-page');

    await expect.poll(() => board.getAttribute('data-page'), { timeout: 8_000 }).not.toBe(first);
    await page.close();
  });
});
