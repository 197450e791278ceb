import type { Hl7AuditSink } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt, startHl7Stack, type Hl7Stack } from './hl7-support.ts';

type Recorded = Parameters<Hl7AuditSink['record']>[0];

/** Stands in for packages/audit's AuditWriter: slow, and failing when told to. */
const sink = {
  events: [] as { event: Recorded; durableAt: number }[],
  failNext: false,
  async record(event: Recorded) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('audit database unreachable');
    }
    this.events.push({ event, durableAt: Date.now() });
    return { id: String(this.events.length) };
  },
};

let stack: Hl7Stack;
const at = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);

beforeAll(async () => {
  stack = await startHl7Stack({ audit: sink });
});

afterAll(async () => {
  await stack?.stop();
});

describe('auditing the HL7 feed', () => {
  it('records an applied message as the system, source hl7, durably before its ACK', async () => {
    const message = adt({
      event: 'A01',
      controlId: 'AU1',
      at,
      mrn: 'AU-1',
      visit: 'AU-V1',
      bed: 'MED-01-A',
    });

    const ack = await stack.send(message);
    const answeredAt = Date.now();

    expect(ack.code).toBe('AA');
    expect(sink.events).toHaveLength(1);
    const [{ event, durableAt }] = sink.events as [(typeof sink.events)[number]];
    expect(durableAt).toBeLessThanOrEqual(answeredAt);
    expect(event).toMatchObject({
      source: 'hl7',
      operation: 'hl7.A01',
      action: 'write',
      actor: { kind: 'system', id: 'system' },
      resourceType: 'hl7_message',
      outcome: 'allowed',
    });
    const { rows } = await stack.database.db.query<{ id: string; patient: string }>(
      `SELECT id::text AS id, patient_id::text AS patient
         FROM encounter WHERE source_ref = 'AU-V1'`,
    );
    expect(event.encounterIds).toEqual([rows[0]!.id]);
    expect(event.patientIds).toEqual([rows[0]!.patient]);
  });

  it('does not audit a refused message (nothing was written)', async () => {
    const before = sink.events.length;
    const ack = await stack.send(
      adt({ event: 'A01', controlId: 'AU2', at, mrn: 'AU-2', visit: 'AU-V2', bed: 'MED-01-A' }),
    );
    expect(ack.reason).toBe('bed_occupied');
    expect(sink.events).toHaveLength(before);
  });

  it('answers nothing when the audit row cannot be written; the resend is a duplicate, audited', async () => {
    const message = Buffer.from(
      adt({ event: 'A01', controlId: 'AU3', at, mrn: 'AU-3', visit: 'AU-V3', bed: 'SUR-01-A' }),
    );
    sink.failNext = true;
    const client = await stack.connect();
    await expect(client.send(message)).rejects.toThrow();

    const again = await stack.send(message);

    expect(again.code).toBe('AA');
    expect(sink.events.at(-1)!.event).toMatchObject({ operation: 'hl7.A01', reason: 'duplicate' });
    const { rows } = await stack.database.db.query(
      `SELECT status::text AS status FROM hl7_message WHERE control_id = 'AU3' ORDER BY id`,
    );
    expect(rows).toEqual([{ status: 'applied' }, { status: 'duplicate' }]);
  });
});
