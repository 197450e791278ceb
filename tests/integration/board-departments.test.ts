import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { ensureBed, ensureDepartment, ensureRoom, getSite } from '@medaxis/db';
import { createTestDatabase, realdataDir, type TestDatabase } from '@medaxis/db/testing';
import { importFhir } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { actorWith, callerFor } from '../support/callers.ts';
import { seedSmallHospital } from '../support/fixtures.ts';

// Reported: after `medaxis import fhir` of Synthea's bundles, 44 bedless departments (its
// clinics and hospitals) sorted to the top of the wall board, ahead of the wards, and of the
// device page's Board choice, growing the board from 4 pages to 7.

const syntheaFhirDir = join(realdataDir, 'synthea-csv-ma-10/fhir');
const hasSynthea = existsSync(syntheaFhirDir);

let test: TestDatabase;

const wallDisplay = () => callerFor(test.db, actorWith(['wall_display'], '*'), 'operations');
const admin = () => callerFor(test.db, actorWith(['admin']), 'operations');

beforeAll(async () => {
  if (!hasSynthea) return;
  test = await createTestDatabase('board_departments');
  await seedSmallHospital(test.db);
  await importFhir(test.db, { paths: [syntheaFhirDir] });
  // A ward an HL7 feed named before anyone configured it: flagged, with a bed.
  const site = (await getSite(test.db))!;
  const feedWard = await ensureDepartment(test.db, site.id, {
    code: 'A-FEED-WARD',
    name: 'A feed ward',
    kind: 'other',
    sortOrder: 1000,
    needsReview: true,
  });
  const room = await ensureRoom(test.db, feedWard, '1');
  await ensureBed(test.db, { roomId: room, code: 'A-FEED-WARD-1', needsReview: true });
});

afterAll(async () => {
  await test?.drop();
});

async function departmentsWithBeds(): Promise<Set<string>> {
  const { rows } = await test.db.query<{ code: string }>(
    `SELECT DISTINCT d.code FROM department d
       JOIN room r ON r.department_id = d.id JOIN bed b ON b.room_id = r.id`,
  );
  return new Set(rows.map((row) => row.code));
}

describe.skipIf(!hasSynthea)('the hospital board after importing Synthea locations', () => {
  it('shows a card for each department with beds, and none for bedless ones', async () => {
    const { rows } = await test.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM department d
        WHERE NOT EXISTS (SELECT 1 FROM room r WHERE r.department_id = d.id)`,
    );
    const snapshot = await wallDisplay().board.snapshot();

    expect(rows[0]!.n).toBeGreaterThan(40);
    const shown = snapshot.departments.map((d) => d.code);
    expect(new Set(shown)).toEqual(await departmentsWithBeds());
    expect(snapshot.departments.filter((d) => d.rooms.length === 0)).toEqual([]);
  });

  it('keeps every bed of the hospital on the board', async () => {
    const { rows } = await test.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bed`);
    const snapshot = await wallDisplay().board.snapshot();

    const beds = snapshot.departments.flatMap((d) => d.rooms.flatMap((r) => r.beds));
    expect(beds).toHaveLength(rows[0]!.n);
  });

  it('shows the configured wards first, in their order, then the feed’s ward', async () => {
    const snapshot = await wallDisplay().board.snapshot();

    expect(snapshot.departments.map((d) => d.code)).toEqual(['ED', 'MED', 'SUR', 'A-FEED-WARD']);
  });

  it('lists departments for the Board choice configured first, then imported by code', async () => {
    const departments = await admin().catalog.departments();

    const configured = departments.filter((d) => !d.needsReview).map((d) => d.code);
    const imported = departments.filter((d) => d.needsReview).map((d) => d.code);
    expect(configured).toEqual(['ED', 'MED', 'SUR']);
    expect(departments.map((d) => d.code)).toEqual([...configured, ...imported]);
    expect(imported).toEqual([...imported].sort());
    expect(imported).toContain('A-FEED-WARD');
  });

  it('answers a bedless department’s own board with the department and no rooms', async () => {
    const { rows } = await test.db.query<{ code: string }>(
      `SELECT code FROM department d
        WHERE NOT EXISTS (SELECT 1 FROM room r WHERE r.department_id = d.id)
        ORDER BY code LIMIT 1`,
    );
    const code = rows[0]!.code;

    const snapshot = await wallDisplay().board.snapshot({ department: code });

    expect(snapshot.departments).toEqual([expect.objectContaining({ code, rooms: [] })]);
  });
});
