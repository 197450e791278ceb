/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

let stack: Stack;
let browser: Browser;
let admin: Api;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  // Revocation reaches open displays at the next socket check: short here, 10 s by default.
  stack = await startStack({ web: true, auth: { socketCheckMs: 300 } });
  await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
  ({ api: admin } = stack.connect({ role: 'admin' }));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function newPage(): Promise<Page> {
  return browser.newPage({ viewport: { width: 1920, height: 1080 } });
}

const live = (page: Page) => page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });

async function signInThroughTheForm(page: Page, username: string, password: string) {
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('[data-login-form] button[type="submit"]').click();
}

describe('signing in', () => {
  it('sends a visitor without a session to the sign-in page, and back to the board after', async () => {
    const { username, password } = await stack.connect({ role: 'bed_manager' }).credentials;
    const page = await newPage();

    await page.goto(`${stack.baseUrl}/board/MED?page=1`);
    await page.locator('[data-login-form]').waitFor();

    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.locator('[data-bed-code]').count()).toBe(0);

    await signInThroughTheForm(page, username!, password!);
    await live(page);

    const url = new URL(page.url());
    expect(`${url.pathname}${url.search}`).toBe('/board/MED?page=1');
    expect(await page.locator('[data-bed-code]').count()).toBe(4);
    expect(await page.locator('[data-account]').textContent()).toContain(username);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'medaxis_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
    });
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.close();
  });

  it('says so when the password is wrong, and stays on the sign-in page', async () => {
    const { username } = await stack.connect({ role: 'bed_manager' }).credentials;
    const page = await newPage();
    await page.goto(`${stack.baseUrl}/login`);

    await signInThroughTheForm(page, username!, 'not the password');

    expect(await page.locator('[data-login-problem]').textContent()).toBe(
      'Wrong username or password.',
    );
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.locator('input[name="password"]').inputValue()).toBe('');
    await page.close();
  });

  it('signs out from the board; the board then asks to sign in again', async () => {
    const { username, password } = await stack.connect({ role: 'bed_manager' }).credentials;
    const page = await newPage();
    await page.goto(`${stack.baseUrl}/login?next=/board`);
    await signInThroughTheForm(page, username!, password!);
    await live(page);

    await page.locator('[data-sign-out]').click();
    await page.locator('[data-login-form]').waitFor();

    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('medaxis_session');
    await page.goto(`${stack.baseUrl}/board`);
    await page.locator('[data-login-form]').waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/board');
    await page.close();
  });
});

describe('a wall display set up with a device token', () => {
  it('opens its own board from the setup link, with no sign-in and no token in the address', async () => {
    const issued = await admin.devices.issue.mutate({
      label: 'Emergency department screen',
      board: 'ED',
      origin: stack.baseUrl,
    });
    const page = await newPage();

    await page.goto(issued.setupUrl);
    await live(page);

    expect(new URL(page.url()).pathname).toBe('/board/ED');
    expect(page.url()).not.toContain(issued.token);
    const codes = await page
      .locator('[data-bed-code]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-bed-code')));
    expect(codes).toEqual(['ED-01-A', 'ED-01-B', 'ED-02-A', 'ED-02-B']);
    expect(await page.locator('[data-sign-out]').count()).toBe(0);

    // Bound to its board: the hospital's board is not what it shows.
    await page.goto(`${stack.baseUrl}/board`);
    await live(page);
    expect(new URL(page.url()).pathname).toBe('/board/ED');

    // Revoked: the display stops showing the board and asks for a sign-in instead.
    await admin.devices.revoke.mutate({ id: issued.device.id });
    await page.locator('[data-login-form]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-bed-code]').count()).toBe(0);
    await page.close();
  });

  it('says so when the setup link is not valid', async () => {
    const page = await newPage();

    await page.goto(`${stack.baseUrl}/device/${'z'.repeat(32)}`);

    await expect
      .poll(() => page.locator('[data-device-problem]').textContent())
      .toMatch(/not valid/);
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('medaxis_device');
    await page.close();
  });
});
