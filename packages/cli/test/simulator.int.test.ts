import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { MedaxisError } from '@medaxis/domain';
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
