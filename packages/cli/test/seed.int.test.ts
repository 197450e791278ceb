import { censusAt, countQualityIssues, createAnonymousPatient, ensureEncounter } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadHospitalConfig } from '../src/hospital-config.ts';
import { hasBeds, seedDemoHospital, type SeedReport } from '../src/seed/index.ts';
import { settledDays } from '../src/seed/plan.ts';
import { brokenInvariants } from './invariants.ts';

let test: TestDatabase;
let report: SeedReport;
const seededAt = new Date();
const hour = 3_600_000;
const historyDays = 3;

beforeAll(async () => {
  test = await createTestDatabase('seed');
  report = await seedDemoHospital(test.db, { now: seededAt, historyDays });
});

/** Occupied share of the beds at `at`, by the census of bed stays (ED beds left out if asked). */
async function occupancyAt(at: Date, options: { withEd: boolean }): Promise<number> {
  const { rows } = await test.db.query<{ occupancy: number }>(
    `SELECT count(DISTINCT s.bed_id)::float / count(DISTINCT b.id) AS occupancy
       FROM bed b JOIN room r ON r.id = b.room_id JOIN department d ON d.id = r.department_id
       LEFT JOIN bed_stay s ON s.bed_id = b.id AND NOT s.cancelled
        AND tstzrange(s.start_at, s.end_at) @> $1::timestamptz
      WHERE $2 OR d.kind <> 'emergency'`,
    [at, options.withEd],
  );
  return rows[0]!.occupancy;
}

afterAll(async () => {
  await test?.drop();
});

describe('demo hospital seed', () => {
  it('builds every bed of config/hospital.json, about 300', () => {
    const config = loadHospitalConfig();
    const configured = config.departments
      .flatMap((d) => d.rooms)
      .reduce((sum, group) => sum + group.count * group.beds, 0);

    expect(report.beds).toBe(configured);
    expect(report.beds).toBeGreaterThanOrEqual(280);
    expect(report.beds).toBeLessThanOrEqual(320);
  });

  it('applies every planned command through the domain, none refused', () => {
    expect(report.refused).toEqual([]);
    expect(report.skipped).toBe(0);
    expect(report.applied).toBeGreaterThan(1000);
  });

  it('audits every placement of a demo patient as a write by the system', async () => {
    // Every patient in a bed now was placed by an audited seed command naming them.
    const { rows } = await test.db.query<{ unaudited: number; rows: number }>(
      `SELECT (SELECT count(*)::int FROM bed b JOIN encounter e ON e.id = b.encounter_id
                WHERE NOT EXISTS (SELECT 1 FROM audit_event a
                                   WHERE a.source = 'seed' AND a.action = 'write'
                                     AND e.patient_id = ANY(a.patient_ids))) AS unaudited,
              (SELECT count(*)::int FROM audit_event WHERE source = 'seed') AS rows`,
    );
    expect(rows[0]!.rows).toBeGreaterThan(100);
    expect(rows[0]!.unaudited).toBe(0);
  });

  it('leaves the hospital 80–90 % occupied, by the census of bed stays', async () => {
    const census = await censusAt(test.db);
    const occupied = census.reduce((sum, row) => sum + row.occupied, 0);
    const beds = census.reduce((sum, row) => sum + row.beds, 0);

    expect(occupied / beds).toBeGreaterThanOrEqual(0.8);
    expect(occupied / beds).toBeLessThanOrEqual(0.9);
    expect(occupied).toBe(report.statuses.occupied);
  });

  it('shows a living hospital: turnaround, blocks, reservations, isolation, boarding', async () => {
    expect((report.statuses.housekeeping ?? 0) + (report.statuses.cleaning ?? 0)).toBeGreaterThan(
      0,
    );
    expect(report.statuses.blocked).toBeGreaterThanOrEqual(3);
    expect(report.statuses.reserved).toBeGreaterThanOrEqual(1);
    expect(report.isolated).toBeGreaterThan(0);
    expect(report.boarding).toBeGreaterThan(0);

    const { rows } = await test.db.query<{ reason: string }>(
      `SELECT DISTINCT status_reason AS reason FROM bed WHERE status = 'blocked'`,
    );
    expect(rows.every((row) => row.reason.length > 0)).toBe(true);
  });

  it('has a history: admissions spread over days, transfers, discharges and cleans', async () => {
    const { rows } = await test.db.query<{
      earliest: Date;
      transfers: number;
      discharges: number;
      cleans: number;
    }>(
      `SELECT (SELECT min(start_at) FROM bed_stay) AS earliest,
              (SELECT count(*)::int FROM bed_stay WHERE end_reason = 'transfer') AS transfers,
              (SELECT count(*)::int FROM bed_stay WHERE end_reason = 'discharge') AS discharges,
              (SELECT count(*)::int FROM bed_status_history
                WHERE status = 'cleaning' AND end_at IS NOT NULL) AS cleans`,
    );
    const history = rows[0]!;

    expect(Date.now() - history.earliest.getTime()).toBeGreaterThan(3 * 86_400_000);
    expect(history.transfers).toBeGreaterThan(50);
    expect(history.discharges).toBeGreaterThan(100);
    expect(history.cleans).toBeGreaterThan(100);
  });

  // Reported: census --at gave 4 % ten days back, 52 % at four, 80 % at three: the history
  // ramped up from an empty hospital.
  it('stays near its target occupancy across the history, not filling up from empty', async () => {
    const instants = Array.from({ length: historyDays * 4 + 1 }, (_, i) => i * 6 * hour);
    for (const ago of instants) {
      const occupancy = await occupancyAt(new Date(seededAt.getTime() - ago), { withEd: true });
      // Wide: the played history swings by the day (77–96 % seen; it runs fullest a day or
      // two back, see plan.ts), while the reported fault read 4–52 %.
      expect(occupancy, `${ago / hour} h ago`).toBeGreaterThanOrEqual(0.75);
      expect(occupancy, `${ago / hour} h ago`).toBeLessThanOrEqual(0.97);
    }
  });

  it('keeps inpatient beds near target for settledDays before the history too', async () => {
    const start = seededAt.getTime() - historyDays * 24 * hour;
    const instants = Array.from({ length: settledDays * 2 }, (_, i) => start - i * 12 * hour);
    const occupancies = await Promise.all(
      instants.map((at) => occupancyAt(new Date(at), { withEd: false })),
    );

    occupancies.forEach((occupancy, i) => {
      expect(occupancy, `${i * 12} h before the history`).toBeGreaterThanOrEqual(0.75);
      expect(occupancy, `${i * 12} h before the history`).toBeLessThanOrEqual(0.93);
    });
    const mean = occupancies.reduce((sum, o) => sum + o, 0) / occupancies.length;
    expect(mean).toBeGreaterThanOrEqual(0.8);
    expect(mean).toBeLessThanOrEqual(0.9);
  });

  it('gives every admitted inpatient an admit decision no later than the admission', async () => {
    const { rows } = await test.db.query<{ inpatients: number; without: number; after: number }>(
      `SELECT count(*)::int AS inpatients,
              count(*) FILTER (WHERE admit_decision_at IS NULL)::int AS without,
              count(*) FILTER (WHERE admit_decision_at > admitted_at)::int AS after
         FROM encounter WHERE class = 'inpatient' AND admitted_at IS NOT NULL`,
    );
    expect(rows[0]!.inpatients).toBeGreaterThan(300);
    expect(rows[0]).toMatchObject({ without: 0, after: 0 });
  });

  it('gives every ED patient who went up to a ward an admit decision before the move', async () => {
    const { rows } = await test.db.query<{ admitted: number; unexplained: number }>(
      `SELECT count(*)::int AS admitted,
              count(*) FILTER (WHERE e.admit_decision_at IS NULL
                                  OR e.admit_decision_at > s.start_at)::int AS unexplained
         FROM encounter e
         JOIN LATERAL (SELECT s.start_at FROM bed_stay s
                         JOIN bed b ON b.id = s.bed_id JOIN room r ON r.id = b.room_id
                         JOIN department d ON d.id = r.department_id
                        WHERE s.encounter_id = e.id AND NOT s.cancelled
                          AND d.kind <> 'emergency'
                        ORDER BY s.start_at LIMIT 1) s ON true
        WHERE e.class = 'emergency'`,
    );
    expect(rows[0]!.admitted).toBeGreaterThan(20);
    expect(rows[0]!.unexplained).toBe(0);
  });

  it('shows no missing admit decision in data quality, while a real one still shows', async () => {
    expect((await countQualityIssues(test.db)).missing_admit_decision).toBe(0);

    // A feed's inpatient admitted with no decision time is a real gap.
    const patientId = await createAnonymousPatient(test.db);
    const encounterId = await ensureEncounter(test.db, {
      patientId,
      class: 'inpatient',
      sourceSystem: 'hl7',
      sourceRef: 'quality-check',
    });
    await test.db.query(
      `UPDATE encounter SET status = 'finished', admitted_at = now() - interval '2 days',
              discharged_at = now() - interval '1 day' WHERE id = $1`,
      [encounterId],
    );
    expect((await countQualityIssues(test.db)).missing_admit_decision).toBe(1);
    await test.db.query(`DELETE FROM encounter WHERE id = $1`, [encounterId]);
  });

  it('breaks no invariant of beds, stays, status history and encounters', async () => {
    expect(await brokenInvariants(test.db)).toEqual({});
  });

  it('logs one event per applied command', async () => {
    const { rows } = await test.db.query<{ events: number }>(
      `SELECT count(*)::int AS events FROM event WHERE source = 'seed'`,
    );
    expect(rows[0]!.events).toBe(report.applied);
  });

  it('takes seconds, not minutes', () => {
    expect(report.timings.totalMs).toBeLessThan(60_000);
  });

  it('refuses a database that already has beds', async () => {
    expect(await hasBeds(test.db)).toBe(true);
    await expect(seedDemoHospital(test.db)).rejects.toThrow(/already has beds/);
  });
});
