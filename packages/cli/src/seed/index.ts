import type { Db, Queryable } from '@medaxis/db';

import { day } from '../demo/flows.ts';
import { Random } from '../demo/random.ts';
import { loadHospitalConfig, type HospitalConfig } from '../hospital-config.ts';
import { applyPlan, type ApplyReport } from './apply.ts';
import { buildLayout } from './layout.ts';
import { historyLeadDays, planHistory } from './plan.ts';

export interface SeedOptions {
  config?: HospitalConfig;
  now?: Date;
  /** Seed of the random source: the same seed plans the same hospital. */
  seed?: number;
  historyDays?: number;
  /** Commands applied side by side. */
  concurrency?: number;
}

export interface SeedReport extends ApplyReport {
  beds: number;
  encounters: number;
  /** Beds per status after the seed. */
  statuses: Record<string, number>;
  isolated: number;
  /** ED patients with an admit decision still in an ED bed. */
  boarding: number;
  timings: { layoutMs: number; planMs: number; applyMs: number; totalMs: number };
}

/** True once the hospital has beds: `npm start` seeds only an empty database. */
export async function hasBeds(db: Queryable): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM bed LIMIT 1`);
  return rows.length > 0;
}

/**
 * Builds the demo hospital of config/hospital.json with a few days of history before `now`,
 * every change applied as a command through the domain, as a feed would.
 */
export async function seedDemoHospital(db: Db, options: SeedOptions = {}): Promise<SeedReport> {
  const started = performance.now();
  const config = options.config ?? loadHospitalConfig();
  const now = options.now ?? new Date();
  const historyDays = options.historyDays ?? 3;
  if (await hasBeds(db)) throw new Error('the database already has beds: seed only an empty one');

  // Beds exist from before the earliest admission the plan may date.
  const bedsSince = new Date(now.getTime() - (historyDays + historyLeadDays + 1) * day);
  const layout = await buildLayout(db, config, bedsSince);
  const planned = performance.now();
  const random = new Random(options.seed ?? 20261203);
  const steps = planHistory(layout, random, { now, historyDays, targetOccupancy: 0.85 });
  const applying = performance.now();
  const report = await applyPlan(db, steps, {
    random,
    authority: config.site.code,
    now,
    concurrency: options.concurrency ?? 4,
  });
  const finished = performance.now();

  return {
    ...report,
    ...(await summarize(db)),
    timings: {
      layoutMs: Math.round(planned - started),
      planMs: Math.round(applying - planned),
      applyMs: Math.round(finished - applying),
      totalMs: Math.round(finished - started),
    },
  };
}

async function summarize(db: Queryable) {
  const { rows } = await db.query<{ status: string; beds: number; isolated: number }>(
    `SELECT status::text AS status, count(*)::int AS beds,
            count(*) FILTER (WHERE isolation)::int AS isolated
       FROM bed GROUP BY status ORDER BY status`,
  );
  const counts = await db.query<{ encounters: number; boarding: number }>(
    `SELECT (SELECT count(*)::int FROM encounter) AS encounters,
            (SELECT count(*)::int
               FROM bed b JOIN room r ON r.id = b.room_id
               JOIN department d ON d.id = r.department_id
               JOIN encounter e ON e.id = b.encounter_id
              WHERE d.kind = 'emergency' AND b.status = 'occupied'
                AND e.admit_decision_at IS NOT NULL) AS boarding`,
  );
  return {
    beds: rows.reduce((sum, row) => sum + row.beds, 0),
    statuses: Object.fromEntries(rows.map((row) => [row.status, row.beds])),
    isolated: rows.reduce((sum, row) => sum + row.isolated, 0),
    encounters: counts.rows[0]!.encounters,
    boarding: counts.rows[0]!.boarding,
  };
}
