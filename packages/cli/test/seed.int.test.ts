import { censusAt } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadHospitalConfig } from '../src/hospital-config.ts';
import { hasBeds, seedDemoHospital, type SeedReport } from '../src/seed/index.ts';
import { brokenInvariants } from './invariants.ts';

let test: TestDatabase;
let report: SeedReport;

beforeAll(async () => {
  test = await createTestDatabase('seed');
  report = await seedDemoHospital(test.db);
});

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
