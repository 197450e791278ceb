import { ensureBed, ensureDepartment, ensureRoom, ensureSite } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Hl7Processor } from '../src/index.ts';

// PV1-7 (attending doctor) becomes the encounter's attending practitioner.

let test: TestDatabase;
let processor: Hl7Processor;

function admit(control: string, visit: string, bed: string, pv17: string) {
  return Buffer.from(
    [
      `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|20261201100000+0000||ADT^A01^ADT_A01|${control}|P|2.5`,
      'EVN|A01|20261201100000+0000',
      `PID|1||M-${visit}^^^NGH^MR||Doe^Jane||19800101|F`,
      `PV1|1|I|MED^01^${bed}||||${pv17}||||||||||||${visit}`,
    ].join('\r'),
  );
}

async function attendingOf(visit: string) {
  const { rows } = await test.db.query<Record<string, unknown>>(
    `SELECT p.id, p.family_name AS family, p.given_name AS given, p.prefix,
            p.identifiers->0->>'system' AS system, p.identifiers->0->>'value' AS value
       FROM encounter e JOIN practitioner p ON p.id = e.attending_id
      WHERE e.source_ref = $1`,
    [visit],
  );
  return rows[0];
}

beforeAll(async () => {
  test = await createTestDatabase('hl7_attending');
  const site = await ensureSite(test.db, { code: 'NGH', name: 'Northgate', timeZone: 'UTC' });
  const department = await ensureDepartment(test.db, site, {
    code: 'MED',
    name: 'Medicine',
    kind: 'ward',
  });
  const room = await ensureRoom(test.db, department, '01');
  for (const bed of ['A', 'B', 'C', 'D']) {
    await ensureBed(test.db, { roomId: room, code: `MED-01-${bed}`, since: new Date(0) });
  }
  processor = new Hl7Processor(test.db, { now: () => new Date('2026-12-01T10:01:00Z') });
});

afterAll(async () => {
  await test?.drop();
});

describe('HL7 attending doctor', () => {
  it('records PV1-7 as the attending practitioner, within its assigning authority', async () => {
    const [frame] = await processor.receive(
      [admit('c1', 'V-1', 'A', 'D123^House^Gregory^^^Dr^^^NPI')],
      't',
    );
    expect(frame!.messages[0]!.outcome.ackCode).toBe('AA');
    expect(await attendingOf('V-1')).toMatchObject({
      family: 'House',
      given: 'Gregory',
      prefix: 'Dr',
      system: 'NPI',
      value: 'D123',
    });
  });

  it('finds the same practitioner for every visit naming the same doctor', async () => {
    await processor.receive([admit('c2', 'V-2', 'B', 'D123^House^^^^^^^NPI')], 't');
    const first = await attendingOf('V-1');
    const second = await attendingOf('V-2');
    expect(second!.id).toBe(first!.id);
    expect(second!.given).toBe('Gregory');
  });

  it('tells doctors of different authorities apart', async () => {
    await processor.receive([admit('c4', 'V-4', 'D', 'D123^Wilson')], 't');
    expect((await attendingOf('V-4'))!.id).not.toBe((await attendingOf('V-1'))!.id);
    expect(await attendingOf('V-4')).toMatchObject({ system: 'hl7:NGH', family: 'Wilson' });
  });

  it('survives NUL in the doctor', async () => {
    const [frame] = await processor.receive([admit('c3', 'V-3', 'C', 'D\u00009^N\u0000ull')], 't');
    expect(frame!.messages[0]!.outcome.ackCode).toBe('AA');
    expect(await attendingOf('V-3')).toMatchObject({ value: 'D\uFFFD9', family: 'N\uFFFDull' });
  });
});
