import { censusAt } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importMimic, type ImportReport } from '../src/index.ts';
import {
  countByUnit,
  demoDir,
  hasDemo,
  readDemoTransfers,
  skipNote,
  stayRows,
  visitRef,
  type DemoRow,
} from './demo-transfers.ts';

let test: TestDatabase;
let rows: DemoRow[];
let report: ImportReport;

beforeAll(async () => {
  if (!hasDemo) return;
  test = await createTestDatabase('mimic_import');
  rows = readDemoTransfers();
  report = await importMimic(test.db, { dir: demoDir });
});

afterAll(async () => {
  await test?.drop();
});

describe.skipIf(!hasDemo)(`MIMIC-IV demo import${skipNote}`, () => {
  it('applies every transfers row of the demo and reports it, with no rejection', async () => {
    const ordinary = rows.filter((row) => row.eventType !== 'discharge');
    const edOnly = rows.filter((row) => row.hadmId === '');
    const admissions = new Set(rows.filter((row) => row.hadmId).map((row) => row.hadmId));

    // The demo's stays chain exactly (each intime is the previous outtime): nothing breaks a
    // rule, so nothing is rejected. test/mimic-rejections covers what happens when it does.
    expect(report.rows).toEqual({
      read: rows.length,
      applied: rows.length,
      alreadyImported: 0,
      rejected: 0,
    });
    expect(report.rejectedByReason).toEqual({});
    expect(report.events.applied).toEqual({
      admit: admissions.size + edOnly.length,
      transfer: ordinary.length - admissions.size - edOnly.length,
      discharge: admissions.size + edOnly.length,
    });
    expect(report.created.encounters).toBe(admissions.size + edOnly.length);
    expect(report.created.patients).toBe(new Set(rows.map((row) => row.subjectId)).size);

    const stored = await test.db.query(
      `SELECT applied, rejected, report FROM import_run WHERE id = $1`,
      [report.runId],
    );
    expect(stored.rows[0]).toEqual({
      applied: rows.length,
      rejected: 0,
      report: JSON.parse(JSON.stringify(report)),
    });
    const kept = await test.db.query(`SELECT count(*)::int AS n FROM import_rejection`);
    expect(kept.rows[0].n).toBe(0);
  });

  it('gives every admission the stays (care unit, in, out) of transfers.csv', async () => {
    const expected = new Map<string, string[]>();
    for (const row of [...stayRows(rows)].sort((a, b) => a.inAt - b.inAt || a.outAt - b.outAt)) {
      const list = expected.get(visitRef(row)) ?? [];
      list.push(`${row.careUnit} ${iso(row.inAt)} ${iso(row.outAt)}`);
      expected.set(visitRef(row), list);
    }

    const { rows: stays } = await test.db.query<{
      ref: string;
      unit: string;
      startAt: Date;
      endAt: Date | null;
    }>(
      `SELECT e.source_ref AS ref, d.name AS unit, s.start_at AS "startAt", s.end_at AS "endAt"
         FROM bed_stay s
         JOIN encounter e ON e.id = s.encounter_id
         JOIN bed b ON b.id = s.bed_id
         JOIN room r ON r.id = b.room_id
         JOIN department d ON d.id = r.department_id
        WHERE e.source_system = 'mimic' AND NOT s.cancelled
        ORDER BY e.source_ref, s.start_at, s.id`,
    );
    const actual = new Map<string, string[]>();
    for (const stay of stays) {
      const list = actual.get(stay.ref) ?? [];
      list.push(
        `${stay.unit} ${stay.startAt.toISOString()} ${stay.endAt?.toISOString() ?? 'open'}`,
      );
      actual.set(stay.ref, list);
    }

    expect(actual.size).toBe(expected.size);
    for (const [ref, sequence] of expected) expect(actual.get(ref), ref).toEqual(sequence);
  });

  it('discharges every admission at the time of its discharge row', async () => {
    const { rows: encounters } = await test.db.query<{
      ref: string;
      status: string;
      dischargedAt: Date;
    }>(
      `SELECT source_ref AS ref, status::text AS status, discharged_at AS "dischargedAt"
         FROM encounter WHERE source_system = 'mimic'`,
    );
    const byRef = new Map(encounters.map((encounter) => [encounter.ref, encounter]));
    for (const row of rows.filter((r) => r.eventType === 'discharge')) {
      expect(byRef.get(row.hadmId)).toMatchObject({
        status: 'finished',
        dischargedAt: new Date(row.inAt),
      });
    }
    for (const row of rows.filter((r) => r.hadmId === '')) {
      expect(byRef.get(visitRef(row))).toMatchObject({
        status: 'finished',
        dischargedAt: new Date(row.outAt!),
      });
    }
  });

  it('adds a bed to a unit only when all of its beds are taken', async () => {
    const { rows: units } = await test.db.query<{ name: string; beds: number }>(
      `SELECT d.name, count(b.id)::int AS beds
         FROM department d JOIN room r ON r.department_id = d.id JOIN bed b ON b.room_id = r.id
        GROUP BY d.name`,
    );
    // The most patients any unit holds at one instant, from the rows: a stay starting when
    // another ends does not overlap it.
    const peak = new Map<string, number>();
    for (const row of stayRows(rows)) {
      const count = countByUnit(rows, row.inAt).get(row.careUnit) ?? 0;
      peak.set(row.careUnit, Math.max(peak.get(row.careUnit) ?? 0, count));
    }
    for (const unit of units) {
      // Same-unit transfers need a second bed at the instant of the move, hence at most one
      // more than the peak.
      expect(unit.beds, unit.name).toBeGreaterThanOrEqual(peak.get(unit.name) ?? 0);
      expect(unit.beds, unit.name).toBeLessThanOrEqual((peak.get(unit.name) ?? 0) + 1);
    }
  });

  it('counts the census at any instant exactly as transfers.csv does', async () => {
    const stays = stayRows(rows);
    // Starts, ends and midpoints of a spread of stays: the half-open bounds matter there.
    const instants = stays
      .filter((_, index) => index % 37 === 0)
      .flatMap((row) => [row.inAt, row.outAt, Math.floor((row.inAt + row.outAt) / 2)]);
    instants.push(Date.parse('2026-01-01T00:00:00Z'));

    let nonEmpty = 0;
    for (const at of instants) {
      const expected = countByUnit(rows, at);
      const census = await censusAt(test.db, { at: new Date(at) });
      const actual = new Map(
        census.filter((row) => row.occupied > 0).map((row) => [row.name, row.occupied]),
      );
      expect(actual, iso(at)).toEqual(expected);
      if (expected.size > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(instants.length / 2);
  });

  it('changes nothing when the same folder is imported again', async () => {
    const before = await countEverything(test);

    const again = await importMimic(test.db, { dir: demoDir });

    expect(await countEverything(test)).toEqual(before);
    expect(again.rows).toEqual({
      read: rows.length,
      applied: 0,
      alreadyImported: rows.length,
      rejected: 0,
    });
    expect(again.events.applied).toEqual({ admit: 0, transfer: 0, discharge: 0 });
    expect(again.created).toEqual({ departments: 0, beds: 0, patients: 0, encounters: 0 });
    expect(again.runId).toBeGreaterThan(report.runId);
  });
});

async function countEverything(db: TestDatabase) {
  const tables = [
    'department',
    'room',
    'bed',
    'patient',
    'patient_identity',
    'encounter',
    'bed_stay',
    'bed_status_history',
    'event',
    'import_rejection',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

function iso(ms: number) {
  return new Date(ms).toISOString();
}
