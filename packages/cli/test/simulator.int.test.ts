import {
  createAnonymousPatient,
  ensureBed,
  ensureDepartment,
  ensureEncounter,
  ensureRoom,
  ensureSite,
  executeCommand,
} from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { historyCommandOptions, MedaxisError } from '@medaxis/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Random } from '../src/demo/random.ts';
import { loadHospitalConfig } from '../src/hospital-config.ts';
import { seedDemoHospital } from '../src/seed/index.ts';
import { AdtSimulator, type StepOutcome } from '../src/simulator.ts';
import { brokenInvariants } from './invariants.ts';

let test: TestDatabase;
const config = loadHospitalConfig();

async function occupancy() {
  const { rows } = await test.db.query<{ occupancy: number }>(
    `SELECT avg((status = 'occupied')::int)::float AS occupancy FROM bed`,
  );
  return rows[0]!.occupancy;
}

beforeAll(async () => {
  test = await createTestDatabase('simulator');
  await seedDemoHospital(test.db, { historyDays: 1 });
});

afterAll(async () => {
  await test?.drop();
});

describe('ADT simulator', () => {
  it('applies each of its steps or has it refused by the domain, never anything else', async () => {
    // A clock 2.5 s further on each step, as the live loop would be, so timed steps (cleaning
    // finished, unblock) come up too.
    let clock = Date.now();
    const simulator = new AdtSimulator({
      db: test.db,
      config,
      random: new Random(7),
      now: () => new Date((clock += 2_500)),
    });
    const outcomes: StepOutcome[] = [];

    for (let step = 0; step < 400; step++) outcomes.push(await simulator.step());

    const unexpected = outcomes.filter(
      (o) =>
        o.status === 'failed' || (o.status === 'refused' && !(o.error instanceof MedaxisError)),
    );
    expect(unexpected).toEqual([]);
    const applied = outcomes.filter((o) => o.status === 'applied');
    expect(applied.length).toBeGreaterThan(300);
    expect(new Set(applied.map((o) => o.action)).size).toBeGreaterThanOrEqual(8);
    expect(await occupancy()).toBeGreaterThanOrEqual(0.8);
    expect(await occupancy()).toBeLessThanOrEqual(0.9);
    expect(await brokenInvariants(test.db)).toEqual({});
  });

  it('takes refusals in its stride when two of them race for the same beds', async () => {
    const racing = [1, 2].map(
      (seed) => new AdtSimulator({ db: test.db, config, random: new Random(seed) }),
    );
    const outcomes: StepOutcome[] = [];

    for (let round = 0; round < 60; round++) {
      outcomes.push(...(await Promise.all(racing.map((simulator) => simulator.step()))));
    }

    expect(outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    for (const outcome of outcomes) {
      if (outcome.status === 'refused') expect(outcome.error).toBeInstanceOf(MedaxisError);
    }
    expect(await brokenInvariants(test.db)).toEqual({});
  });

  it('runs on its own until stopped, finishing the step in progress', async () => {
    const steps: StepOutcome[] = [];
    const simulator = new AdtSimulator({
      db: test.db,
      config,
      delayMs: [10, 20],
      onStep: (outcome) => steps.push(outcome),
    });

    simulator.start();
    await expect.poll(() => steps.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    await simulator.stop();
    const afterStop = steps.length;
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(steps.length).toBe(afterStop);
  });

  it('audits the patient moves it makes, durable once it has stopped', async () => {
    const before = await simulatorAuditRows();
    const simulator = new AdtSimulator({ db: test.db, config, delayMs: [5, 10] });
    simulator.start();
    await expect
      .poll(async () => (await simulatorAuditRows()) - before, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(3);
    await simulator.stop();

    const { rows } = await test.db.query<{ patients: number; actor: string }>(
      `SELECT cardinality(patient_ids) AS patients, actor_id AS actor FROM audit_event
        WHERE source = 'simulator' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ actor: 'system' });
    expect(rows[0]!.patients).toBeGreaterThanOrEqual(1);
  });
});

describe('ADT simulator audit', () => {
  it('audits each admit decision it records as a write of that patient', async () => {
    let clock = Date.now();
    const simulator = new AdtSimulator({
      db: test.db,
      config,
      random: new Random(11),
      now: () => new Date((clock += 2_500)),
    });
    let decisions = 0;
    for (let step = 0; step < 3_000 && decisions < 2; step++) {
      const outcome = await simulator.step();
      if (outcome.status === 'applied' && outcome.action === 'admit-decision') decisions += 1;
    }
    await simulator.stop();
    expect(decisions).toBeGreaterThanOrEqual(1);

    const { rows } = await test.db.query<{ events: number; unaudited: number }>(
      `SELECT count(*)::int AS events,
              count(*) FILTER (WHERE NOT EXISTS (
                SELECT 1 FROM audit_event a
                 WHERE a.source = 'simulator' AND a.operation = 'command.admit-decision'
                   AND a.resource_id = e.encounter_id::text
                   AND c.patient_id = ANY(a.patient_ids)))::int AS unaudited
         FROM event e JOIN encounter c ON c.id = e.encounter_id
        WHERE e.type = 'admit-decision' AND e.source = 'simulator'`,
    );
    expect(rows[0]!.events).toBeGreaterThanOrEqual(decisions);
    expect(rows[0]!.unaudited).toBe(0);
  });
});

async function simulatorAuditRows(): Promise<number> {
  const { rows } = await test.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_event WHERE source = 'simulator'`,
  );
  return rows[0]!.n;
}

// Reported: after a replay, the simulator cleaned and admitted demo patients into REPLAY-* beds
// and into beds an HL7 sample created for review (HUH_AE_OMU-OMU_B-BED_03).
describe('ADT simulator boundaries', () => {
  it("keeps off replayed, imported and review beds, others' patients and blocks", async () => {
    const foreign = await createForeignWorld();
    const { rows: last } = await test.db.query<{ id: string }>(
      `SELECT coalesce(max(id), 0)::text AS id FROM event`,
    );
    let clock = Date.now();
    const simulator = new AdtSimulator({
      db: test.db,
      config,
      random: new Random(23),
      now: () => new Date((clock += 2_500)),
    });
    const outcomes: StepOutcome[] = [];

    for (let step = 0; step < 400; step++) outcomes.push(await simulator.step());

    const applied = outcomes.filter((o) => o.status === 'applied');
    expect(applied.filter((o) => o.action === 'admission').length).toBeGreaterThan(5);
    expect(applied.filter((o) => o.action === 'cleaning-started').length).toBeGreaterThan(5);
    const { rows } = await test.db.query<{ code: string; type: string }>(
      `SELECT b.code, e.type FROM event e JOIN bed b ON b.id = e.bed_id
        WHERE e.id > $3 AND e.source = 'simulator'
          AND (b.id = ANY($1::int[]) OR e.encounter_id = $2)`,
      [foreign.bedIds, foreign.encounterId, last[0]!.id],
    );
    expect(rows).toEqual([]);
    const beds = await test.db.query<{ code: string; status: string; encounter: string | null }>(
      `SELECT code, status::text AS status, encounter_id AS encounter FROM bed
        WHERE id = ANY($1::int[]) ORDER BY code`,
      [foreign.bedIds],
    );
    expect(beds.rows).toEqual(foreign.before);
  });
});

/**
 * Beds the demo does not own, free or waiting for housekeeping (what the simulator would take
 * first): a replay's department, an import's, an HL7 location flagged for review, and in a
 * configured ward a bed the configuration does not define. Plus, in the demo's own beds, a
 * feed's patient and a bed a user blocked.
 */
async function createForeignWorld() {
  const site = await ensureSite(test.db, config.site);
  const bedIds: number[] = [];
  const at = new Date(Date.now() - 3_600_000);
  const addBeds = async (department: string, kind: 'ward' | 'icu', review: boolean) => {
    const departmentId = await ensureDepartment(test.db, site, {
      code: department,
      name: department,
      kind,
      needsReview: review,
    });
    const roomId = await ensureRoom(test.db, departmentId, `${department}-R`);
    for (let bed = 1; bed <= 6; bed++) {
      bedIds.push(
        await ensureBed(test.db, { roomId, code: `${department}-BED_0${bed}`, since: at }),
      );
    }
    return departmentId;
  };
  await addBeds('REPLAY-MED1', 'ward', false);
  await addBeds('MIMIC-MICU', 'icu', false);
  await addBeds('HUH_AE_OMU', 'ward', true);
  const med1 = (
    await test.db.query<{ id: number }>(`SELECT id FROM department WHERE code = 'MED1'`)
  ).rows[0]!.id;
  const extraRoom = await ensureRoom(test.db, med1, '099');
  bedIds.push(await ensureBed(test.db, { roomId: extraRoom, code: 'MED1-099-A', since: at }));

  const context = { source: 'hl7', options: historyCommandOptions(new Date()) };
  const admitForeign = async (bedId: number, ref: string, at: Date) => {
    const patientId = await createAnonymousPatient(test.db);
    const encounterId = await ensureEncounter(test.db, {
      patientId,
      class: 'inpatient',
      admitDecisionAt: at,
      sourceSystem: 'hl7',
      sourceRef: ref,
    });
    await executeCommand(test.db, { type: 'admit', encounterId, bedId, at }, context);
    return encounterId;
  };
  // A replayed patient went home from the first REPLAY bed: it waits for housekeeping.
  const replayed = await admitForeign(bedIds[0]!, 'replayed', at);
  await executeCommand(test.db, { type: 'discharge', encounterId: replayed, at }, context);

  // Earlier tests ran the simulator's clock ahead: act after each bed's current status. A
  // full hospital may have no free bed: one awaiting housekeeping is cleaned first.
  const { rows } = await test.db.query<{ id: number; status: string; since: Date }>(
    `SELECT b.id, b.status::text AS status, b.status_since AS since
       FROM bed b JOIN room r ON r.id = b.room_id JOIN department d ON d.id = r.department_id
      WHERE d.code = ANY($1::text[]) AND b.status IN ('free', 'housekeeping')
      ORDER BY b.status = 'free' DESC, b.id LIMIT 2`,
    [config.departments.filter((d) => d.kind !== 'emergency').map((d) => d.code)],
  );
  const [fed, blocked] = await Promise.all(
    rows.map(async (row) => {
      let since = row.since.getTime() + 1;
      if (row.status === 'housekeeping') {
        for (const type of ['cleaning-started', 'cleaning-finished'] as const) {
          since += 60_000;
          await executeCommand(
            test.db,
            { type, bedId: row.id, at: new Date(since) },
            { ...context, source: 'ui' },
          );
        }
      }
      return { id: row.id, at: new Date(since + 1) };
    }),
  );
  const encounterId = await admitForeign(fed!.id, 'fed', fed!.at);
  await executeCommand(
    test.db,
    { type: 'block', bedId: blocked!.id, reason: 'closed: staffing', at: blocked!.at },
    { ...context, source: 'ui' },
  );
  bedIds.push(fed!.id, blocked!.id);

  const before = await test.db.query<{ code: string; status: string; encounter: string | null }>(
    `SELECT code, status::text AS status, encounter_id AS encounter FROM bed
      WHERE id = ANY($1::int[]) ORDER BY code`,
    [bedIds],
  );
  expect(before.rows.filter((bed) => bed.status === 'free').length).toBeGreaterThan(15);
  return { bedIds, encounterId, before: before.rows };
}
