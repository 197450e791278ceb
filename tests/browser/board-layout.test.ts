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

  // Reported cut off at 1920×1080: "00…" beside the isolation mark, "OMU_B-…", "repai…",
  // "REPLAY-MI…", "Cardiac Vascular Intensive Care Unit (CVI…". A replayed MIMIC unit has
  // all of them: a long code and name, ten-character bed codes, isolation, blocked beds.
  const mimic = await ensureDepartment(db, site!.id, {
    code: 'REPLAY-MIMIC',
    name: 'Cardiac Vascular Intensive Care Unit (CVICU)',
    kind: 'other',
  });
  const bay = await ensureRoom(db, mimic, 'OMU_B');
  const { api, close } = stack.connect({ role: 'bed_manager' });
  for (let n = 1; n <= 8; n++) {
    const bedId = await ensureBed(db, { roomId: bay, code: `OMU_B-${String(n).padStart(4, '0')}` });
    if (n <= 4) await api.beds.setIsolation.mutate({ bedId, isolation: true });
    if (n % 2 === 0) {
      await api.beds.block.mutate({ bedId, reason: 'repair of the oxygen outlet' });
    }
  }
  await close();
  bedCount += 8;
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
    /** Departments whose name had to be cut (in full in the tooltip). */
    const names: string[] = [];
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
      // The bed code is the tile's identity: never cut, and clear of the isolation mark.
      const shown = tile.querySelector<HTMLElement>('[data-tile-code]')!;
      const codeBox = shown.getBoundingClientRect();
      if (shown.scrollWidth > shown.clientWidth + 1) problems.push(`${code} bed code cut`);
      const mark = tile.querySelector<HTMLElement>('[data-isolation-mark]');
      if (tile.dataset.isolation === 'true' && !mark) problems.push(`${code} no isolation mark`);
      const markBox = mark?.getBoundingClientRect();
      if (markBox && codeBox.bottom > markBox.top + 0.5 && codeBox.right > markBox.left + 0.5) {
        problems.push(`${code} bed code under the isolation mark`);
      }
      if (!tile.title.startsWith(code)) problems.push(`${code} tooltip lacks the code`);
      for (const reason of tile.querySelectorAll<HTMLElement>('.reason')) {
        const cut = reason.scrollWidth > reason.clientWidth + 1;
        if (cut && reason.title !== reason.textContent) problems.push(`${code} reason lost`);
      }
    }
    const card = element.querySelectorAll<HTMLElement>('section');
    for (const section of card) {
      const box = section.getBoundingClientRect();
      const department = section.dataset.department!;
      if (box.bottom > viewport.bottom + 0.5) problems.push(`${department} cut`);
      const heading = section.querySelector<HTMLElement>('h2')!;
      const deptCode = section.querySelector<HTMLElement>('.dept-code')!;
      if (deptCode.getBoundingClientRect().right > heading.getBoundingClientRect().right + 0.5) {
        problems.push(`${department} code cut`);
      }
      const name = section.querySelector<HTMLElement>('[data-department-name]')!;
      const nameCut = name.scrollWidth > name.clientWidth + 1;
      if (nameCut && !heading.title.includes(name.textContent.trim())) {
        problems.push(`${department} name lost`);
      }
      if (nameCut) names.push(department);
    }
    return { problems, codes, names };
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
        const { problems, codes, names } = await inspectPage(page, n);
        // BOARD_SCREENSHOTS=<dir>: keep each page as a wall display shows it, to look at.
        if (process.env.BOARD_SCREENSHOTS) {
          await page.screenshot({
            path: `${process.env.BOARD_SCREENSHOTS}/${size.width}-${n}.png`,
          });
        }
        expect(problems).toEqual([]);
        // Long names shrink to fit a column; cutting one is the last resort, not the rule.
        expect(names).toEqual([]);
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
