/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import { Hl7Processor } from '@medaxis/interop';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt } from '../integration/hl7/hl7-support.ts';
import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

/*
 * The operations pages in a real browser: the HL7 dead-letter view (/interfaces) and the ADT
 * data-quality page (/quality), each for a role that may use it and one that may not.
 */

let stack: Stack;
let browser: Browser;
let processor: Hl7Processor;
const ids: Record<string, string> = {};
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

async function send(name: string, message: string) {
  const [frame] = await processor.receive([Buffer.from(message)], 'browser-test');
  ids[name] = frame!.ids[0]!;
  return frame!.messages[0]!.outcome;
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
  processor = new Hl7Processor(stack.database.db);

  const first = { event: 'A01', at: minutesAgo(60), mrn: 'M1', visit: 'V1', bed: 'MED-01-A' };
  expect((await send('first', adt({ ...first, controlId: 'B1' }))).status).toBe('applied');
  const second = { event: 'A01', at: minutesAgo(30), mrn: 'M2', visit: 'V2', bed: 'MED-01-A' };
  expect((await send('occupied', adt({ ...second, controlId: 'B2' }))).errorReason).toBe(
    'bed_occupied',
  );
  const third = { event: 'A01', at: minutesAgo(20), mrn: 'M3', visit: 'V3', bed: 'NEW-01-X' };
  expect((await send('newBed', adt({ ...third, controlId: 'B3' }))).status).toBe('applied');

  // A row a locations import kept as rejected (as packages/interop keeps it).
  const { rows } = await stack.database.db.query<{ id: string }>(
    `WITH run AS (INSERT INTO import_run (kind, source) VALUES ('locations', 'beds.csv')
                  RETURNING id)
     INSERT INTO import_rejection (run_id, file, row_number, row, code, reason)
     SELECT id, 'beds.csv', 2, '{"department": "W9", "room": "01", "bed": "W9-01-A"}',
            'unknown_department', 'No department W9.' FROM run
     RETURNING id::text`,
  );
  ids.rejection = rows[0]!.id;
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A page whose browser carries the session of a new user holding `role`. */
async function pageAs(role: string): Promise<Page> {
  const assigned = ['charge_nurse', 'clinician', 'scheduler'].includes(role) ? ['MED'] : undefined;
  const { cookie } = await stack.connect({ role, departments: assigned }).credentials;
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.addCookies([{ name, value, url: stack.baseUrl, httpOnly: true }]);
  return context.newPage();
}

const row = (page: Page, id: string) => page.locator(`[data-message-id="${id}"]`);

describe('the ADT data-quality page', () => {
  it('shows an administrator the counts and drills down to the items behind one', async () => {
    const page = await pageAs('admin');
    await page.goto(`${stack.baseUrl}/quality`);

    const rejected = page.locator('[data-check="rejected_messages"] [data-count]');
    await expect.poll(() => rejected.getAttribute('data-count')).toBe('1');
    expect(
      await page
        .locator('[data-check="unconfigured_locations"] [data-count]')
        .getAttribute('data-count'),
    ).toBe('2');

    await page.locator('[data-check="unconfigured_locations"]').click();
    await page.locator('[data-items="unconfigured_locations"] [data-item]').first().waitFor();
    const items = await page
      .locator('[data-items="unconfigured_locations"] [data-item]')
      .allTextContents();
    expect(items).toHaveLength(2);
    expect(items[1]).toContain('NEW-01-X');

    // A rejected message leads to the dead-letter view, opened on that message.
    await page.locator('[data-check="rejected_messages"]').click();
    await page.locator(`[data-items="rejected_messages"] a`).first().click();
    await page.locator(`[data-open-message="${ids.occupied}"]`).waitFor();
    expect(new URL(page.url()).pathname).toBe('/interfaces');

    // A rejected import row leads to the import rejections view, opened on that row.
    await page.goto(`${stack.baseUrl}/quality`);
    const imports = page.locator('[data-check="rejected_import_rows"] [data-count]');
    await expect.poll(() => imports.getAttribute('data-count')).toBe('1');
    await page.locator('[data-check="rejected_import_rows"]').click();
    const item = page.locator('[data-items="rejected_import_rows"] [data-item]');
    await item.first().waitFor();
    expect(await item.first().textContent()).toContain('unknown_department');
    await page.locator('[data-items="rejected_import_rows"] a').first().click();
    await page.locator(`[data-open-rejection="${ids.rejection}"]`).waitFor();
    expect(new URL(page.url()).pathname).toBe('/interfaces/imports');
    await page.context().close();
  });

  it('refuses a role without the permission, showing no figure', async () => {
    const page = await pageAs('charge_nurse');
    await page.goto(`${stack.baseUrl}/quality`);

    await page.locator('[data-refused="forbidden"]').waitFor();
    expect(await page.locator('[data-check]').count()).toBe(0);
    await page.context().close();
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.baseUrl}/quality`);

    await page.locator('[data-login-form]').waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/quality');
    await context.close();
  });
});

describe('the HL7 dead-letter view', () => {
  it('shows an administrator the rejected message without any patient identity', async () => {
    const page = await pageAs('admin');
    await page.goto(`${stack.baseUrl}/interfaces`);

    await row(page, ids.occupied!).locator('button').click();
    const raw = page.locator('[data-raw-message]');
    await raw.waitFor();

    expect(await page.locator('[data-identity]').getAttribute('data-identity')).toBe('masked');
    expect(await raw.textContent()).toContain('PID|1||***||***||***|***');
    expect(await raw.textContent()).not.toMatch(/M2|Doe|Jane|19800101/);
    await page.context().close();
  });

  it('lets a bed manager reprocess a rejected message once its cause is fixed', async () => {
    const page = await pageAs('bed_manager');
    await page.goto(`${stack.baseUrl}/interfaces`);

    const rejected = row(page, ids.occupied!);
    expect(await rejected.locator('[data-reason]').textContent()).toBe('bed_occupied');
    await rejected.locator('button').click();
    const raw = page.locator('[data-raw-message]');
    await raw.waitFor();
    expect(await raw.textContent()).toContain('PID|1||M2^^^NGH^MR||Doe^Jane||19800101|F');

    // The cause: the first patient still lies in the bed. Their discharge frees it.
    const discharge = { event: 'A03', at: minutesAgo(40), mrn: 'M1', visit: 'V1' };
    expect((await send('discharge', adt({ ...discharge, controlId: 'B4' }))).status).toBe(
      'applied',
    );
    await page.locator('[data-reprocess]').click();

    await page.locator('[data-notice="ok"]').waitFor();
    expect(await page.locator('[data-notice]').textContent()).toContain('Applied (AA).');
    expect(await page.locator('[data-open-status]').textContent()).toBe('applied (AA)');
    await expect.poll(() => rejected.count()).toBe(0);
    expect(await page.locator('[data-outcome-count="rejected"]').textContent()).toBe('0');
    expect(await page.locator('[data-reprocess]').count()).toBe(0);
    await page.context().close();
  });

  it('lists every message under "All", with its outcome', async () => {
    const page = await pageAs('admin');
    await page.goto(`${stack.baseUrl}/interfaces`);
    await page.locator('[data-outcome-tab="all"]').click();

    await expect.poll(() => page.locator('[data-message-id]').count()).toBe(4);
    expect(await row(page, ids.occupied!).getAttribute('data-status')).toBe('applied');
    await page.context().close();
  });

  it('refuses a role without the permission, showing no message', async () => {
    const page = await pageAs('clinician');
    await page.goto(`${stack.baseUrl}/interfaces`);

    await page.locator('[data-refused="forbidden"]').waitFor();
    expect(await page.locator('[data-message-id]').count()).toBe(0);
    await page.context().close();
  });
});
