import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { replayMimic, type ReplaySummary } from '../src/index.ts';
import { demoDir, eventsByVisit, hasDemo, readDemoTransfers, skipNote } from './demo-transfers.ts';
import { readReplayedEvents } from './replay-order.ts';

let test: TestDatabase;
let first: ReplaySummary;
let startedAt: Date;
const limit = 60;

beforeAll(async () => {
  if (!hasDemo) return;
  test = await createTestDatabase('mimic_replay');
  startedAt = new Date();
  first = await replayMimic(test.db, { dir: demoDir, speed: 1e12, maxWaitMs: 0, limit });
});

afterAll(async () => {
  await test?.drop();
});

describe.skipIf(!hasDemo)(`MIMIC replay on a fresh database${skipNote}`, () => {
  it('applies the first n history events, in time order, as live events dated now', async () => {
    const rows = readDemoTransfers();
    const replayed = await readReplayedEvents(test.db, first.run, rows);

    expect(first).toMatchObject({ events: limit, applied: limit, refusedByReason: {} });
    expect(replayed).toHaveLength(limit);
    for (const event of replayed) expect(event.type).toBe(event.kind);
    for (let i = 1; i < replayed.length; i++) {
      expect(replayed[i]!.at).toBeGreaterThanOrEqual(replayed[i - 1]!.at);
      expect(replayed[i]!.occurredAt.getTime()).toBeGreaterThanOrEqual(
        replayed[i - 1]!.occurredAt.getTime(),
      );
    }
    // What was played is the earliest of the history: its times are the n smallest.
    const allTimes = [...eventsByVisit(rows).values()].flat().map((event) => event.at);
    expect(replayed.map((event) => event.at).sort((a, b) => a - b)).toEqual(
      allTimes.sort((a, b) => a - b).slice(0, limit),
    );
    expect(replayed[0]!.occurredAt.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
  });

  it('keeps to its own departments and beds', async () => {
    const { rows } = await test.db.query<{ code: string; name: string }>(
      `SELECT DISTINCT d.code, d.name FROM bed_stay s JOIN bed b ON b.id = s.bed_id
         JOIN room r ON r.id = b.room_id JOIN department d ON d.id = r.department_id`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const department of rows) {
      expect(department.code).toMatch(/^REPLAY-/);
      expect(department.name).toMatch(/ \(replay\)$/);
    }
  });

  it('starts afresh, discharging what an interrupted run left in bed', async () => {
    const { rows: leftBefore } = await test.db.query(
      `SELECT count(*)::int AS n FROM encounter
        WHERE source_system = 'mimic-replay' AND status = 'in_progress'`,
    );

    expect(leftBefore[0].n).toBeGreaterThan(0);

    const second = await replayMimic(test.db, {
      dir: demoDir,
      speed: 1e12,
      maxWaitMs: 0,
      limit: 10,
    });

    expect(second.leftoversDischarged).toBe(leftBefore[0].n);
    expect(second).toMatchObject({ events: 10, applied: 10, refusedByReason: {} });
    expect(second.run).not.toBe(first.run);
  });

  it('caps every wait, however long the idle gap in history', async () => {
    const began = Date.now();

    // At real speed the first events of the demo lie hours to years apart.
    const summary = await replayMimic(test.db, { dir: demoDir, speed: 1, maxWaitMs: 20, limit: 8 });

    expect(summary.applied).toBe(8);
    expect(Date.now() - began).toBeLessThan(8 * 20 + 5_000);
  });
});
