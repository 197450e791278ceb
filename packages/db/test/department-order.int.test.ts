import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  censusAt,
  ensureBed,
  ensureDepartment,
  ensureRoom,
  ensureSite,
  listDepartments,
  listRooms,
  loadBoardBedsByDepartment,
  setDepartmentOrganization,
  type DepartmentInput,
} from '../src/index.ts';
import { createTestDatabase, repoRoot, type TestDatabase } from '../src/testing.ts';

let test: TestDatabase;
let siteId: number;

/** A department as its creator makes it, with `beds` beds in one room. */
async function department(input: DepartmentInput, beds: number) {
  const id = await ensureDepartment(test.db, siteId, input);
  if (beds > 0) {
    const roomId = await ensureRoom(test.db, id, '01');
    for (let n = 1; n <= beds; n++)
      await ensureBed(test.db, { roomId, code: `${input.code}-${n}` });
  }
  return id;
}

beforeAll(async () => {
  test = await createTestDatabase('department_order');
  siteId = await ensureSite(test.db, { code: 'TEST', name: 'Test', timeZone: 'UTC' });

  // The hospital's own, as the seed numbers them: sort order, not code, places them.
  await department({ code: 'WARD-Z', name: 'Ward Z', kind: 'ward', sortOrder: 10 }, 2);
  await department({ code: 'ICU', name: 'ICU', kind: 'icu', sortOrder: 20 }, 1);
  await department({ code: 'AAA-CLINIC', name: 'Clinic', kind: 'clinic', sortOrder: 30 }, 1);
  // Created on first use, with what each creator gives: HL7 (1000), MIMIC and replay (0),
  // FHIR (1000, no beds: a clinic a Location named).
  const review = { kind: 'other', needsReview: true } as const;
  await department({ ...review, code: 'HUH_AE', name: 'HUH AE', sortOrder: 1000 }, 1);
  await department({ ...review, code: 'MICU', name: 'MICU' }, 1);
  await department({ ...review, code: 'REPLAY-MED', name: 'Medicine (replay)' }, 1);
  await department({ ...review, code: 'WESTERN-MASS', name: 'WESTERN', sortOrder: 1000 }, 0);
});

afterAll(async () => {
  await test?.drop();
});

const expectedOrder = ['WARD-Z', 'ICU', 'AAA-CLINIC', 'HUH_AE', 'MICU', 'REPLAY-MED'];

describe('department display order', () => {
  it('lists configured departments by sort order, then imported ones by code', async () => {
    const codes = (await listDepartments(test.db)).map((d) => d.code);

    expect(codes).toEqual([...expectedOrder, 'WESTERN-MASS']);
  });

  it('orders the board beds, rooms and census the same way', async () => {
    const beds = await loadBoardBedsByDepartment(test.db);
    const rooms = await listRooms(test.db);
    const census = await censusAt(test.db);

    expect([...new Set(beds.map((bed) => bed.departmentCode))]).toEqual(expectedOrder);
    expect(rooms.map((room) => room.departmentCode)).toEqual(expectedOrder);
    expect(census.map((row) => row.department)).toEqual(expectedOrder);
  });
});

describe('repair of departments the FHIR import created unflagged', () => {
  it('flags bedless departments linked to an organization, and no others', async () => {
    const migration = join(
      repoRoot,
      'prisma/migrations/20261204150000_flag_imported_departments/migration.sql',
    );
    const orgId = '74ab949d-17ac-3309-83a0-13b4405c66aa';
    await test.db.query(`INSERT INTO organization (id, name) VALUES ($1, 'Clinic')`, [orgId]);
    // As the import made them before the fix: unflagged, sort order 0, linked, no rooms.
    const clinic = await department({ code: 'FITCHBURG', name: 'Fitchburg', kind: 'other' }, 0);
    await setDepartmentOrganization(test.db, clinic, orgId);
    // A configured ward that a FHIR import linked to its organization keeps its place.
    const wardId = (await listDepartments(test.db)).find((d) => d.code === 'WARD-Z')!.id;
    await setDepartmentOrganization(test.db, wardId, orgId);

    await test.db.query(await readFile(migration, 'utf8'));

    const { rows } = await test.db.query<{ code: string }>(
      `SELECT code FROM department WHERE needs_review ORDER BY code`,
    );
    expect(rows.map((row) => row.code)).toEqual([
      'FITCHBURG',
      'HUH_AE',
      'MICU',
      'REPLAY-MED',
      'WESTERN-MASS',
    ]);
  });
});
