/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

/*
 * The wall-display admin page (/admin/devices) in a real browser through the real server: an
 * admin issues a display for one department, the screen is set up from the link shown once,
 * the admin revokes it and the screen loses its board; a role without device.manage is refused.
 */

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  // Revocation reaches open displays at the next socket check: short here, 10 s by default.
  stack = await startStack({ web: true, auth: { socketCheckMs: 300 } });
  await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A page whose browser carries the session of a new user holding `role`. */
async function pageAs(role: string): Promise<Page> {
  const { cookie } = await stack.connect({ role }).credentials;
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.addCookies([{ name, value, url: stack.baseUrl, httpOnly: true }]);
  return context.newPage();
}

const live = (page: Page) => page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });

describe('the wall-display admin page', () => {
  it('issues a display for one department, shown once, and revokes it off the screen', async () => {
    // An admin reaches the page from the other operations pages.
    const admin = await pageAs('admin');
    await admin.goto(`${stack.baseUrl}/quality`);
    await admin.locator('nav a[href="/admin/devices"]').click();
    await admin.locator('[data-devices][data-loaded="true"]').waitFor();
    expect(await admin.locator('nav a[aria-current="page"]').textContent()).toContain(
      'Wall displays',
    );

    // Issue: a label, the Medicine board, thirty days.
    await admin.locator('[data-issue-form] input[name="label"]').fill('Medicine corridor');
    await admin.locator('[data-issue-form] select[name="board"]').selectOption('MED');
    await admin.locator('[data-issue-form] select[name="lifetime"]').selectOption('30');
    await admin.locator('[data-issue]').click();

    const setupUrl = await admin.locator('[data-setup-url]').inputValue();
    expect(setupUrl).toMatch(new RegExp(`^${stack.baseUrl}/device/[^/]+$`));
    expect(await admin.locator('[data-issued]').textContent()).toMatch(/only now/);
    const qr = await admin.locator('[data-setup-qr]').getAttribute('src');
    expect(decodeURIComponent(qr ?? '')).toMatch(/^data:image\/svg\+xml;charset=utf-8,<svg/);

    const row = admin.locator('[data-device]', { hasText: 'Medicine corridor' });
    expect(await row.getAttribute('data-status')).toBe('active');
    expect(await row.locator('[data-device-board]').textContent()).toBe('MED');
    const days = await stack.database.db.query<{ days: number }>(
      `SELECT round(extract(epoch FROM expires_at - issued_at) / 86400)::int AS days
         FROM device_token WHERE label = 'Medicine corridor'`,
    );
    expect(days.rows[0]?.days).toBe(30);

    // The screen: a fresh browser, no sign-in, opens the link and shows Medicine's board.
    const screenContext = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const screen = await screenContext.newPage();
    await screen.goto(setupUrl);
    await live(screen);
    expect(new URL(screen.url()).pathname).toBe('/board/MED');
    const codes = await screen
      .locator('[data-bed-code]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-bed-code')));
    expect(codes).toEqual(['MED-01-A', 'MED-01-B', 'MED-02-A', 'MED-02-B']);

    // Shown once: the page reloaded lists the display but has no link or code for it.
    await admin.reload();
    await admin.locator('[data-devices][data-loaded="true"]').waitFor();
    expect(await admin.locator('[data-setup-url]').count()).toBe(0);
    expect(await admin.content()).not.toContain(setupUrl);

    // Revoke, confirmed first; the screen then asks to be set up (signed in) again.
    await row.locator('[data-revoke]').click();
    await row.locator('[data-confirm-revoke]').waitFor();
    expect(await row.getAttribute('data-status')).toBe('active');
    await row.locator('[data-revoke-confirm]').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('revoked');
    expect(await row.locator('[data-revoke]').count()).toBe(0);

    await screen.locator('[data-login-form]').waitFor({ timeout: 15_000 });
    expect(await screen.locator('[data-bed-code]').count()).toBe(0);
    await screenContext.close();
    await admin.context().close();
  });

  it('says why the API refused an issue, and issues nothing', async () => {
    const admin = await pageAs('admin');
    await admin.goto(`${stack.baseUrl}/admin/devices`);
    await admin.locator('[data-devices][data-loaded="true"]').waitFor();
    const before = await admin.locator('[data-device]').count();

    // A department removed after the page listed the boards: the API's typed refusal.
    await stack.database.db.query(
      `INSERT INTO department (site_id, code, name, kind, sort_order)
       SELECT site_id, 'GONE', 'Closed ward', kind, 99 FROM department WHERE code = 'MED'`,
    );
    await admin.reload();
    await admin.locator('[data-devices][data-loaded="true"]').waitFor();
    await stack.database.db.query(`DELETE FROM department WHERE code = 'GONE'`);
    await admin.locator('[data-issue-form] input[name="label"]').fill('Closed ward screen');
    await admin.locator('[data-issue-form] select[name="board"]').selectOption('GONE');
    await admin.locator('[data-issue]').click();

    expect(await admin.locator('[data-issue-problem]').textContent()).toMatch(
      /department is not on this site/,
    );
    expect(await admin.locator('[data-setup-url]').count()).toBe(0);
    expect(await admin.locator('[data-device]').count()).toBe(before);
    await admin.context().close();
  });

  it('refuses a bed manager, who holds no device.manage, and offers no link to it', async () => {
    const page = await pageAs('bed_manager');
    await page.goto(`${stack.baseUrl}/admin/devices`);

    await page.locator('[data-refused="forbidden"]').waitFor();
    expect(await page.locator('[data-issue-form]').count()).toBe(0);
    expect(await page.locator('[data-device]').count()).toBe(0);

    await page.goto(`${stack.baseUrl}/quality`);
    await page.locator('[data-check]').first().waitFor();
    expect(await page.locator('nav a[href="/admin/devices"]').count()).toBe(0);
    await page.context().close();
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/admin/devices`);

    await page.locator('[data-login-form]').waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/admin/devices');
    await context.close();
  });
});
