/// <reference lib="dom" />
// page.evaluate callbacks run in the browser.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { repoRoot } from '@medaxis/db/testing';
import { loadPolicyConfig, loadRoles } from '@medaxis/policy';
import { buildServer, createLogger } from '@medaxis/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';
import { newDisplayPage } from './display.ts';

const webBuildDir = join(repoRoot, 'apps/web/build');

/** The wording DESIGN.md asks for, with the last-heard time in the site's zone. */
const lostBanner = new RegExp(
  'Connection lost — last heard from the server at \\d\\d:\\d\\d:\\d\\d ' +
    '\\(\\d+ s ago\\), reconnecting…',
);

let stack: Stack;
let hospital: SmallHospital;
let browser: Browser;
let api: Api;
let closeApi: () => Promise<void>;

beforeAll(async () => {
  if (!existsSync(join(webBuildDir, 'handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  hospital = await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
  ({ api, close: closeApi } = stack.connect());
});

afterAll(async () => {
  await browser?.close();
  await closeApi?.();
  await stack?.stop();
});

/** Opens a board at wall-display size and waits until it is live. */
async function openBoard(baseUrl: string, path = '/board'): Promise<Page> {
  const page = await newDisplayPage(browser, stack, { width: 1920, height: 1080 });
  await page.goto(`${baseUrl}${path}`);
  await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
  return page;
}

const board = (page: Page) => page.locator('[data-connection]');
const tile = (page: Page, code: string) => page.locator(`[data-bed-code="${code}"]`);
const stripFigure = (page: Page, key: string) =>
  page.locator(`.strip [data-figure="${key}"] .value`);

async function admitNew(bedCode: string, extra: { admitDecisionAt?: string } = {}) {
  return api.adt.admit.mutate({
    bedId: hospital.beds[bedCode]!,
    newEncounter: { class: extra.admitDecisionAt ? 'emergency' : 'inpatient', ...extra },
  });
}

describe('wall board', () => {
  it('redirects / to the hospital board and shows every seeded bed', async () => {
    const page = await newDisplayPage(browser, stack, { width: 1920, height: 1080 });
    await page.goto(`${stack.baseUrl}/`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });

    expect(new URL(page.url()).pathname).toBe('/board');
    await expect.poll(() => page.locator('[data-bed-code]').count()).toBe(12);
    const codes = await page
      .locator('[data-bed-code]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-bed-code')));
    expect(codes.sort()).toEqual(Object.keys(hospital.beds).sort());
    expect(await page.locator('[data-status="free"]').count()).toBe(12);
    expect(await stripFigure(page, 'free').textContent()).toBe('12');
    await expect.poll(() => page.locator('h1').textContent()).toContain('Test Hospital');
    await page.close();
  });

  it('shows one department on its own board', async () => {
    const page = await openBoard(stack.baseUrl, '/board/ED');

    const codes = await page
      .locator('[data-bed-code]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-bed-code')));
    expect(codes).toEqual(['ED-01-A', 'ED-01-B', 'ED-02-A', 'ED-02-B']);
    await page.close();
  });

  it('shows an admission made through the API on the open board, without a reload', async () => {
    const page = await openBoard(stack.baseUrl);
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const freeBefore = Number(await stripFigure(page, 'free').textContent());

    const admitted = await admitNew('MED-01-A');

    await expect.poll(() => tile(page, 'MED-01-A').getAttribute('data-status')).toBe('occupied');
    expect(await board(page).getAttribute('data-last-event-id')).toBe(admitted.eventId);
    expect(await tile(page, 'MED-01-A').textContent()).toContain('Occupied');
    expect(Number(await stripFigure(page, 'free').textContent())).toBe(freeBefore - 1);
    expect(await page.evaluate(() => 'notReloaded' in window)).toBe(true);
    await page.close();
  });

  it('shows an ED patient with an admit decision as boarding, with a timer', async () => {
    const page = await openBoard(stack.baseUrl);
    // Half a minute of slack: the board's clock ticks once a second.
    const decided = new Date(Date.now() - 2 * 3_600_000 - 5.5 * 60_000).toISOString();

    await admitNew('ED-01-A', { admitDecisionAt: decided });

    await expect.poll(() => tile(page, 'ED-01-A').textContent()).toContain('Boarding');
    expect(await tile(page, 'ED-01-A').locator('[data-timer]').textContent()).toBe('2h 05m');
    expect(await stripFigure(page, 'boarding').textContent()).toBe('1');
    await page.close();
  });
});

describe('wall board connection', () => {
  it('shows a lost connection, then applies the missed events exactly once', async () => {
    // A server of our own on the same database, so it can be stopped and started on one port
    // while the stack's server keeps taking commands.
    const quiet = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
    const serve = async (port: number) => {
      const server = await buildServer({
        db: stack.database.db,
        roles: loadRoles(join(repoRoot, 'config/roles.json')),
        policies: loadPolicyConfig(join(repoRoot, 'config')).policies,
        databaseUrl: stack.database.url,
        log: quiet,
        webBuildDir,
      });
      await server.app.listen({ port, host: '127.0.0.1' });
      return server.app;
    };
    let server = await serve(0);
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('server has no port');
    const baseUrl = `http://127.0.0.1:${address.port}`;

    try {
      const page = await openBoard(baseUrl);
      const appliedBefore = Number(await board(page).getAttribute('data-events-applied'));
      const ignoredBefore = Number(await board(page).getAttribute('data-events-ignored'));

      await server.close();

      await board(page).and(page.locator('[data-connection="offline"]')).waitFor();
      const banner = page.locator('[data-connection-banner]');
      await expect
        .poll(async () => (await banner.textContent())?.replace(/\s+/g, ' ').trim())
        .toMatch(lostBanner);
      // The board fades to dim (a CSS transition): read it once the fade has had its time.
      const content = page.locator('[data-board-content]');
      await expect
        .poll(() => content.evaluate((el) => Number(getComputedStyle(el).opacity)))
        .toBeLessThan(0.5);

      // While the board cannot hear, three things happen.
      const missed = [
        await admitNew('SUR-01-A'),
        await admitNew('SUR-01-B'),
        await api.beds.block.mutate({ bedId: hospital.beds['SUR-02-A']!, reason: 'maintenance' }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await tile(page, 'SUR-01-A').getAttribute('data-status')).toBe('free');

      server = await serve(address.port);

      await board(page).and(page.locator('[data-connection="live"]')).waitFor({ timeout: 20_000 });
      await expect
        .poll(() => board(page).getAttribute('data-last-event-id'))
        .toBe(missed[2]!.eventId);
      expect(await banner.count()).toBe(0);
      expect(await tile(page, 'SUR-01-A').getAttribute('data-status')).toBe('occupied');
      expect(await tile(page, 'SUR-01-B').getAttribute('data-status')).toBe('occupied');
      expect(await tile(page, 'SUR-02-A').getAttribute('data-status')).toBe('blocked');
      expect(await tile(page, 'SUR-02-A').textContent()).toContain('maintenance');

      // Each missed event applied once, none offered twice, however long we wait.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(Number(await board(page).getAttribute('data-events-applied'))).toBe(appliedBefore + 3);
      expect(Number(await board(page).getAttribute('data-events-ignored'))).toBe(ignoredBefore);
      await page.close();
    } finally {
      await server.close();
    }
  });
});
