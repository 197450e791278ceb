import { auditWriterFor, verifyAuditLog } from '@medaxis/audit';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { importMimic, type ImportReport } from '../src/index.ts';
import { writeTransfersFixture } from './fixture.ts';

// Each row's line in the file is its index here + 2 (the header is line 1).
const rows = [
  // hadm 100: the transfer after a gap is refused, so is the discharge that would end it.
  '1,100,1001,ED,Emergency Department,2150-01-01 08:00:00,2150-01-01 09:00:00',
  '1,100,1002,admit,Medicine,2150-01-01 09:00:00,2150-01-01 12:00:00',
  '1,100,1003,transfer,Neurology,2150-01-01 12:30:00,2150-01-01 18:00:00',
  '1,100,1004,discharge,,2150-01-01 18:00:00,',
  // hadm 200: an overlapping row is refused; the next one starts where the admit ended.
  '2,200,2001,admit,Medicine,2150-01-02 09:00:00,2150-01-02 14:00:00',
  '2,200,2002,transfer,Neurology,2150-01-02 13:00:00,2150-01-02 16:00:00',
  '2,200,2003,transfer,Medicine,2150-01-02 14:00:00,2150-01-02 17:00:00',
  '2,200,2004,discharge,,2150-01-02 17:00:00,',
  '2,200,2005,transfer,Neurology,2150-01-02 19:00:00,2150-01-02 20:00:00',
  // hadm 300: a stay without outtime, then a discharge with nothing to end.
  '3,300,3001,admit,Medicine,2150-01-03 09:00:00,',
  '3,300,3002,discharge,,2150-01-03 12:00:00,',
  // hadm 400: rows that cannot be read as stays at all.
  '4,400,4001,admit,,2150-01-04 09:00:00,2150-01-04 10:00:00',
  '4,400,4002,transfer,Medicine,yesterday,2150-01-04 12:00:00',
  '4,400,4003,transfer,Medicine,2150-01-04 12:00:00,2150-01-04 11:00:00',
  '4,400,4004,bogus,Medicine,2150-01-04 12:00:00,2150-01-04 13:00:00',
  // ED rows without hadm_id: without outtime; a discharge that belongs to no admission.
  '5,,5001,ED,Emergency Department,2150-01-05 08:00:00,',
  '5,,5002,discharge,,2150-01-05 09:00:00,',
  // An ED-only visit while subject 1 is in the ED: the ED needs a second bed.
  '6,,6001,ED,Emergency Department,2150-01-01 08:30:00,2150-01-01 10:00:00',
  ',700,7001,admit,Medicine,2150-01-07 09:00:00,2150-01-07 10:00:00',
];

const expectedRejections: [line: number, reason: string][] = [
  [4, 'gap_before_stay'],
  [5, 'discharge_time_mismatch'],
  [7, 'overlaps_previous_stay'],
  [10, 'row_after_discharge'],
  [11, 'missing_time'],
  [12, 'discharge_without_stay'],
  [13, 'missing_careunit'],
  [14, 'bad_time'],
  [15, 'negative_stay'],
  [16, 'unknown_event_type'],
  [17, 'missing_time'],
  [18, 'missing_hadm_id'],
  [20, 'missing_subject'],
];

let test: TestDatabase;
let fixture: ReturnType<typeof writeTransfersFixture>;
let report: ImportReport;

beforeAll(async () => {
  test = await createTestDatabase('mimic_rejections');
  fixture = writeTransfersFixture(rows);
  report = await importMimic(test.db, { dir: fixture.dir, audit: auditWriterFor(test.db) });
});

afterAll(async () => {
  fixture?.remove();
  await test?.drop();
});

describe('MIMIC import of rows that break the rules', () => {
  it('audits every applied event as a write of the system, durable when it returns', async () => {
    const { rows: audited } = await test.db.query<{ operation: string; patients: number }>(
      `SELECT operation, cardinality(patient_ids) AS patients FROM audit_event
        WHERE source = 'import:mimic' ORDER BY id`,
    );
    const applied = Object.values(report.events.applied).reduce((sum, n) => sum + n, 0);

    expect(applied).toBeGreaterThan(0);
    expect(audited).toHaveLength(applied);
    expect(audited.every((row) => row.patients === 1)).toBe(true);
    expect(new Set(audited.map((row) => row.operation))).toEqual(
      new Set(['import.mimic.admit', 'import.mimic.transfer', 'import.mimic.discharge']),
    );
    expect((await verifyAuditLog(test.db)).ok).toBe(true);
  });

  it('reports applied and rejected rows, with counts per reason', () => {
    const byReason: Record<string, number> = {};
    for (const [, reason] of expectedRejections) byReason[reason] = (byReason[reason] ?? 0) + 1;

    expect(report.rows).toEqual({
      read: rows.length,
      applied: rows.length - expectedRejections.length,
      alreadyImported: 0,
      rejected: expectedRejections.length,
    });
    expect(report.rejectedByReason).toEqual(byReason);
    expect(report.warnings.visitsLeftOpen).toBe(1);
  });

  it('keeps every rejected row with its file, line, raw row, code and reason', async () => {
    const { rows: kept } = await test.db.query<{
      file: string;
      rowNumber: number;
      row: Record<string, string>;
      code: string;
      reason: string;
    }>(
      `SELECT file, row_number AS "rowNumber", row, code, reason
         FROM import_rejection WHERE run_id = $1 ORDER BY row_number`,
      [report.runId],
    );

    expect(kept.map((r) => [r.rowNumber, r.code])).toEqual(expectedRejections);
    for (const rejection of kept) {
      expect(rejection.file).toBe('hosp/transfers.csv');
      const columns = ['subject_id', 'hadm_id', 'transfer_id', 'eventtype', 'careunit'];
      const raw = [...columns, 'intime', 'outtime'].map((column) => rejection.row[column]);
      expect(raw.join(',')).toBe(rows[rejection.rowNumber - 2]);
      expect(rejection.reason.length).toBeGreaterThan(10);
    }
    expect(kept.find((r) => r.code === 'gap_before_stay')!.reason).toContain(
      '2150-01-01T12:00:00.000Z',
    );
  });

  it('ends a stay only where its row ends, leaving it open rather than guess', async () => {
    const stays = await staysByVisit();

    expect(stays.get('100')).toEqual([
      'Emergency Department 2150-01-01T08:00:00.000Z 2150-01-01T09:00:00.000Z',
      'Medicine 2150-01-01T09:00:00.000Z open',
    ]);
    expect(stays.get('200')).toEqual([
      'Medicine 2150-01-02T09:00:00.000Z 2150-01-02T14:00:00.000Z',
      'Medicine 2150-01-02T14:00:00.000Z 2150-01-02T17:00:00.000Z',
    ]);
    expect(stays.get('ed-6001')).toEqual([
      'Emergency Department 2150-01-01T08:30:00.000Z 2150-01-01T10:00:00.000Z',
    ]);
    expect([...stays.keys()].sort()).toEqual(['100', '200', 'ed-6001']);
  });

  it('gives overlapping stays of one unit different beds', async () => {
    const { rows: beds } = await test.db.query<{ code: string; n: number }>(
      `SELECT b.code, count(s.id)::int AS n FROM bed b LEFT JOIN bed_stay s ON s.bed_id = b.id
        GROUP BY b.code ORDER BY b.code`,
    );
    // ED-01 holds subject 1 then, once free, nobody; ED-02 the overlapping ED-only visit.
    // MED-01 keeps hadm 100 (never discharged), so hadm 200 needs MED-02 and, for its
    // same-unit transfer, MED-03.
    expect(beds).toEqual([
      { code: 'ED-01', n: 1 },
      { code: 'ED-02', n: 1 },
      { code: 'MED-01', n: 1 },
      { code: 'MED-02', n: 1 },
      { code: 'MED-03', n: 1 },
    ]);
  });

  it('stores a rejected row once however often the import runs', async () => {
    const again = await importMimic(test.db, { dir: fixture.dir });

    expect(again.rows.rejected).toBe(expectedRejections.length);
    expect(again.rejectedByReason).toEqual(report.rejectedByReason);
    expect(again.rejectionsAlreadyKept).toBe(expectedRejections.length);
    expect(again.rows.alreadyImported).toBe(rows.length - expectedRejections.length);
    const { rows: count } = await test.db.query(`SELECT count(*)::int AS n FROM import_rejection`);
    expect(count[0].n).toBe(expectedRejections.length);
  });
});

async function staysByVisit() {
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
      ORDER BY e.source_ref, s.start_at, s.id`,
  );
  const byVisit = new Map<string, string[]>();
  for (const stay of stays) {
    const list = byVisit.get(stay.ref) ?? [];
    list.push(`${stay.unit} ${stay.startAt.toISOString()} ${stay.endAt?.toISOString() ?? 'open'}`);
    byVisit.set(stay.ref, list);
  }
  return byVisit;
}
