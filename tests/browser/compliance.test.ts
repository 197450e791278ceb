/// <reference lib="dom" />
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ensureEncounter, ensurePatient } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchChromium } from './chromium.ts';

let stack: Stack;
let browser: Browser;
let patientId: string;
let clinicianName: string;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'apps/web/build/handler.js'))) {
    throw new Error('apps/web/build is missing: run `npm run build:web` before browser tests');
  }
  stack = await startStack({ web: true });
  const hospital = await seedSmallHospital(stack.database.db);
  const db = stack.database.db;
  patientId = await ensurePatient(db, {
    mrn: 'NGH552310',
    authority: 'NGH',
    familyName: 'Castellanos',
    givenName: 'Iria',
    birthDate: '1964-08-12',
  });
  const encounterId = await ensureEncounter(db, { patientId, class: 'inpatient' });
  const { api: manager } = stack.connect({ role: 'bed_manager' });
  await manager.adt.admit.mutate({ bedId: hospital.beds['MED-01-A']!, encounterId });

  // Earlier, a clinician of the ward looked the patient up.
  const clinician = stack.connect({ role: 'clinician', departments: ['MED'] });
  clinicianName = (await clinician.credentials).username!;
  await clinician.api.patients.get.query({ id: patientId });
  await clinician.close();

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function signedInPage(role: string, path: string): Promise<Page> {
  const { username, password } = await stack.connect({ role }).credentials;
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${stack.baseUrl}${path}`);
  await page.locator('[data-login-form]').waitFor();
  await page.locator('input[name="username"]').fill(username!);
  await page.locator('input[name="password"]').fill(password!);
  await page.locator('[data-login-form] button[type="submit"]').click();
  return page;
}

describe('the compliance pages', () => {
  it('show a compliance officer who accessed a patient, and export it as CSV', async () => {
    const page = await signedInPage('compliance_officer', `/audit/patient?patient=${patientId}`);

    const row = page.locator('[data-fact]', { hasText: clinicianName });
    await row.first().waitFor({ timeout: 15_000 });

    expect(new URL(page.url()).pathname).toBe('/audit/patient');
    const text = await row.first().textContent();
    expect(text).toContain('patients.get');
    expect(text).toContain('treatment');
    expect(text).toContain('allowed');
    // From a fact to everything its actor did.
    expect(await row.first().locator('[data-fact-actor] a').getAttribute('href')).toBe(
      `/audit/user?user=${clinicianName}`,
    );
    // The audit views show who and why, never who the patient is.
    expect(await page.locator('main').textContent()).not.toMatch(/Castellanos|NGH552310/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-report-export]').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^medaxis-patientAccess-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toMatch(/^firstAt,lastAt,count,kind,id,actorKind,actorId,actorName,/);
    expect(
      lines.some((line) => line.includes(clinicianName) && line.includes('patients.get')),
    ).toBe(true);
    await page.close();
  });

  it('move between the views and show the chain intact', async () => {
    const page = await signedInPage('compliance_officer', '/audit/chain');

    await page.locator('[data-chain-ok="true"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-nav="/audit/denials"]').click();
    await page.locator('[data-report-total]').waitFor();

    expect(new URL(page.url()).pathname).toBe('/audit/denials');
    await page.close();
  });

  it('list a break-glass override and close its review with a note', async () => {
    const clinician = stack.connect({ role: 'clinician', departments: ['MED'] });
    await clinician.api.consent.record.mutate({
      records: [{ patientId, policy: 'protected_person', action: 'restrict' }],
    });
    const opened = await clinician.api.breakGlass.open.mutate({
      patientId,
      reason: 'Collapsed on the ward, needs history now',
    });
    await clinician.api.patients.get.query({ id: patientId });
    await clinician.close();
    const page = await signedInPage('compliance_officer', '/audit/break-glass');

    const override = page.locator(`[data-break-glass="${opened.id}"]`);
    await override.waitFor({ timeout: 15_000 });
    expect(await override.textContent()).toContain('Collapsed on the ward, needs history now');
    // The override and the read it allowed, both flagged.
    expect(await override.locator('[data-flagged]').textContent()).toBe('2');
    await override.locator('input[name="note"]').fill('Justified: emergency on the ward');
    await override.locator('[data-mark-reviewed]').click();

    await page.locator('[data-report-total]', { hasText: 'Nothing found' }).waitFor();
    await page.locator('select[name="status"]').selectOption('reviewed');
    await override.locator('[data-reviewed]').waitFor();
    expect(await override.locator('[data-reviewed]').textContent()).toContain(
      'Justified: emergency on the ward',
    );
    await page.close();
  });

  it('refuse a user who is not a compliance officer, in the page and at the server', async () => {
    const page = await signedInPage('bed_manager', `/audit/patient?patient=${patientId}`);

    await page.locator('[data-audit-refused]').waitFor({ timeout: 15_000 });

    expect(await page.locator('[data-fact]').count()).toBe(0);
    expect(await page.locator('[data-report-filters]').count()).toBe(0);
    const status = await page.evaluate(async (id) => {
      const input = encodeURIComponent(JSON.stringify({ patientId: id }));
      const response = await fetch(`/trpc/compliance.patientAccess?input=${input}`, {
        headers: { 'x-purpose-of-use': 'audit' },
      });
      return response.status;
    }, patientId);
    expect(status).toBe(403);
    await page.close();
  });
});
