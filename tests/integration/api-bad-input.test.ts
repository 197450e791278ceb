import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
let hospital: SmallHospital;
/** A bed manager's session: malformed input is judged after who sends it. */
let cookie: string;

beforeAll(async () => {
  stack = await startStack();
  hospital = await seedSmallHospital(stack.database.db);
  ({ cookie } = await stack.connect({ role: 'bed_manager' }).credentials);
});

afterAll(async () => {
  await stack?.stop();
});

async function post(path: string, body: string) {
  const response = await fetch(`${stack.baseUrl}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body,
  });
  return { status: response.status, body: await response.json() };
}

async function eventCount() {
  const { rows } = await stack.database.db.query(`SELECT count(*)::int AS n FROM event`);
  return rows[0].n as number;
}

describe('malformed requests', () => {
  const cases: [string, string, string][] = [
    ['invalid JSON', 'adt.admit', '{"bedId": 1,'],
    ['a wrong type', 'adt.admit', '{"bedId": "one", "newEncounter": {}}'],
    ['a missing field', 'adt.transfer', '{"bedId": 1}'],
    ['an unknown field', 'beds.block', '{"bedId": 1, "reason": "x", "drop": "table"}'],
    ['an encounter id that is no uuid', 'adt.discharge', '{"encounterId": "1; DROP"}'],
    ['an instant without offset', 'beds.unblock', '{"bedId": 1, "at": "2026-01-01T10:00"}'],
    ['an empty block reason', 'beds.block', '{"bedId": 1, "reason": "   "}'],
    ['a body that is an array', 'adt.discharge', '[1, 2, 3]'],
  ];

  it.each(cases)('answers %s with 400 and changes nothing', async (_name, path, body) => {
    const before = await eventCount();
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBeTruthy();
    expect(await eventCount()).toBe(before);
  });

  it("never shows the server's stack or file paths, signed in or not", async () => {
    // Fault found by a first-run trial: error bodies carried `data.stack` with the server's
    // source paths. They go to the server log, not to the client.
    const signedIn = await post('adt.admit', '{"bedId": "one"}');
    const stranger = await fetch(`${stack.baseUrl}/trpc/census.current`);
    for (const body of [signedIn.body, await stranger.json()]) {
      expect(body.error.data.code).toBeTruthy();
      expect(body.error.data).not.toHaveProperty('stack');
      expect(JSON.stringify(body)).not.toMatch(/\.ts:\d+|node_modules|\/packages\//);
    }
  });

  it('answers an unknown procedure with 404', async () => {
    const response = await post('adt.teleport', '{}');
    expect(response.status).toBe(404);
  });

  it('answers an oversized body with 413, not 500', async () => {
    const response = await fetch(`${stack.baseUrl}/trpc/beds.block`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bedId: 1, reason: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    // Refused before any procedure, and still audited.
    const { rows } = await stack.database.db.query(
      `SELECT operation, outcome, reason FROM audit_event WHERE reason = 'PAYLOAD_TOO_LARGE'`,
    );
    expect(rows).toEqual([
      { operation: '/trpc/beds.block', outcome: 'error', reason: 'PAYLOAD_TOO_LARGE' },
    ]);
  });
});

describe('refused commands', () => {
  it('says clearly why, with a typed code, and changes nothing', async () => {
    const { api, close } = stack.connect();
    const bedId = hospital.beds['MED-01-A']!;
    const admitted = await api.adt.admit.mutate({ bedId, newEncounter: { class: 'inpatient' } });
    const before = await eventCount();

    const attempts: [Promise<unknown>, number, string, string][] = [
      [api.adt.admit.mutate({ bedId, newEncounter: {} }), 409, 'CONFLICT', 'bed_occupied'],
      [
        api.adt.transfer.mutate({ encounterId: admitted.encounterId, bedId }),
        409,
        'CONFLICT',
        'same_bed',
      ],
      [api.adt.admit.mutate({ bedId: 999_999, newEncounter: {} }), 404, 'NOT_FOUND', 'unknown_bed'],
      [
        api.adt.discharge.mutate({ encounterId: '00000000-0000-4000-8000-000000000000' }),
        404,
        'NOT_FOUND',
        'unknown_encounter',
      ],
      [
        api.adt.admit.mutate({
          bedId: hospital.beds['MED-01-B']!,
          newEncounter: {},
          at: new Date(Date.now() + 86_400_000).toISOString(),
        }),
        422,
        'BAD_EVENT_TIME',
        'future_event',
      ],
      [api.beds.cleaningFinished.mutate({ bedId }), 409, 'CONFLICT', 'bed_occupied'],
    ];
    for (const [attempt, status, code, reason] of attempts) {
      const error = (await attempt.then(
        () => undefined,
        (e: unknown) => e,
      )) as { data?: { httpStatus: number; medaxis: { code: string; reason: string } } };
      expect(error?.data?.httpStatus).toBe(status);
      expect(error?.data?.medaxis).toEqual({ code, reason });
    }

    // A blocked bed refuses admission; a free bed refuses a discharge that is not there.
    const blocked = hospital.beds['MED-02-A']!;
    await api.beds.block.mutate({ bedId: blocked, reason: 'maintenance' });
    await expect(api.adt.admit.mutate({ bedId: blocked, newEncounter: {} })).rejects.toMatchObject({
      data: { medaxis: { code: 'CONFLICT', reason: 'bed_blocked' } },
    });
    expect(await eventCount()).toBe(before + 1);
    await close();
  });
});

describe('health', () => {
  it('reports live and ready', async () => {
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: true, eventListener: true });
  });
});

describe('admit decision', () => {
  it('marks an ED patient as boarding and refuses a second decision', async () => {
    const { api, close } = stack.connect();
    const admitted = await api.adt.admit.mutate({
      bedId: hospital.beds['ED-02-A']!,
      newEncounter: { class: 'emergency' },
    });

    await api.adt.decideAdmission.mutate({ encounterId: admitted.encounterId });
    const beds = await api.catalog.beds.query({ department: 'ED' });
    expect(beds.find((b) => b.code === 'ED-02-A')?.admitDecisionAt).toEqual(expect.any(String));

    await expect(
      api.adt.decideAdmission.mutate({ encounterId: admitted.encounterId }),
    ).rejects.toMatchObject({
      data: { medaxis: { code: 'CONFLICT', reason: 'no_admit_decision' } },
    });
    await expect(
      api.adt.decideAdmission.mutate({
        encounterId: admitted.encounterId,
        at: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    ).rejects.toMatchObject({ data: { medaxis: { code: 'BAD_EVENT_TIME' } } });
    await close();
  });
});
