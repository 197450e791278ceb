/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from '@medaxis/db/testing';
import { importFhir, importLocations } from '@medaxis/interop';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

/*
 * The import rejections page (/interfaces/imports), beside the HL7 dead letters: a locations
 * row fixed in its edit box, a FHIR Patient whose row is not shown pasted fixed, and a role
 * that may not see the page.
 */

let stack: Stack;
let browser: Browser;
let scratch: string;

const patient = {
  resourceType: 'Patient',
  id: 'browser-1',
  name: [{ family: 'Okafor', given: ['Ada'] }],
  gender: 'robot',
};

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  await seedSmallHospital(stack.database.db);
  browser = await launchChromium();
  scratch = await mkdtemp(join(tmpdir(), 'medaxis-browser-imports-'));
  await writeFile(
    join(scratch, 'wards.csv'),
    'department,department_name,kind,room,bed\nICU,Intensive care,intensive,1,ICU-1\n',
  );
  await importLocations(stack.database.db, { file: join(scratch, 'wards.csv') });
  await writeFile(join(scratch, 'patients.ndjson'), `${JSON.stringify(patient)}\n`);
  await importFhir(stack.database.db, { paths: [join(scratch, 'patients.ndjson')] });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function pageAs(role: string): Promise<Page> {
  const assigned = role === 'charge_nurse' ? ['MED'] : undefined;
  const { cookie } = await stack.connect({ role, departments: assigned }).credentials;
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.addCookies([{ name, value, url: stack.baseUrl, httpOnly: true }]);
  return context.newPage();
}

async function idOf(code: string) {
  const { rows } = await stack.database.db.query<{ id: string }>(
    `SELECT id::text AS id FROM import_rejection WHERE code = $1 ORDER BY id LIMIT 1`,
    [code],
  );
  return rows[0]!.id;
}

describe('the import rejections page', () => {
  it('lets a bed manager fix a locations row in its edit box and reprocess it', async () => {
    const id = await idOf('bad_kind');
    const page = await pageAs('bed_manager');
    await page.goto(`${stack.baseUrl}/interfaces`);
    await page.locator('nav a', { hasText: 'Import rejections' }).click();

    const row = page.locator(`[data-rejection-id="${id}"]`);
    await row.waitFor();
    expect(await row.locator('[data-reason]').textContent()).toContain('bad_kind');
    expect(await page.locator('[data-kind-count="all"]').textContent()).toContain('2');
    await row.locator('button').click();
    const edit = page.locator('[data-edit-row]');
    await edit.waitFor();
    const stored = JSON.parse(await edit.inputValue()) as Record<string, string>;
    expect(stored).toMatchObject({ department: 'ICU', kind: 'intensive' });

    await edit.fill(JSON.stringify({ ...stored, kind: 'icu' }));
    await page.locator('[data-reprocess]').click();

    await page.locator('[data-notice="ok"]').waitFor();
    expect(await page.locator('[data-notice]').textContent()).toContain('with the edited row');
    expect(await page.locator('[data-open-state]').getAttribute('data-open-state')).toBe('applied');
    await expect.poll(() => row.count()).toBe(0);
    const { rows } = await stack.database.db.query(
      `SELECT kind::text AS kind FROM department WHERE code = 'ICU'`,
    );
    expect(rows).toEqual([{ kind: 'icu' }]);
    await page.context().close();
  });

  it('does not show a patient row, and applies a fixed one pasted in', async () => {
    const id = await idOf('invalid_resource');
    const page = await pageAs('admin');
    await page.goto(`${stack.baseUrl}/interfaces/imports?rejection=${id}`);

    const edit = page.locator('[data-edit-row]');
    await edit.waitFor();
    expect(await edit.inputValue()).toBe('');
    expect(await page.locator('[data-open-rejection]').textContent()).not.toContain('Okafor');

    // A paste that is no JSON is caught before anything is sent.
    await edit.fill('{"resourceType": "Patient",');
    await page.locator('[data-reprocess]').click();
    await page.locator('[data-notice="problem"]').waitFor();
    expect(await page.locator('[data-notice]').textContent()).toContain('not valid JSON');

    await edit.fill(JSON.stringify({ ...patient, gender: 'female' }));
    await page.locator('[data-reprocess]').click();
    await page.locator('[data-notice="ok"]').waitFor();
    await page.locator('[data-empty]').waitFor();
    await page.context().close();
  });

  it('refuses a role without the permission, showing no rejection', async () => {
    const page = await pageAs('charge_nurse');
    await page.goto(`${stack.baseUrl}/interfaces/imports`);

    await page.locator('[data-refused="forbidden"]').waitFor();
    expect(await page.locator('[data-rejection-id]').count()).toBe(0);
    await page.context().close();
  });
});
