import { encodeMllpFrame, readAck } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { adt, hl7Time, startHl7Stack, type AdtInput, type Hl7Stack } from './hl7-support.ts';

let stack: Hl7Stack;
// Whole seconds, since HL7 times here carry seconds; the beds exist since yesterday.
const base = Math.floor((Date.now() - 3 * 3_600_000) / 1000) * 1000;
const minute = (n: number) => new Date(base + n * 60_000);
let sequence = 0;

beforeAll(async () => {
  stack = await startHl7Stack();
});

afterAll(async () => {
  await stack?.stop();
});

/** Sends an ADT message with a fresh control id; returns the MSA-1 code and the reason. */
async function send(input: Omit<AdtInput, 'controlId'> & { controlId?: string }) {
  const ack = await stack.send(adt({ controlId: `C${++sequence}`, ...input }));
  return `${ack.code}${ack.reason ? ` ${ack.reason}` : ''}`;
}

async function staysOf(visit: string) {
  const { rows } = await stack.database.db.query<{ bed: string; start: Date; end: Date | null }>(
    `SELECT b.code AS bed, s.start_at AS start, s.end_at AS end
       FROM bed_stay s JOIN bed b ON b.id = s.bed_id JOIN encounter e ON e.id = s.encounter_id
      WHERE e.source_ref = $1 AND NOT s.cancelled ORDER BY s.start_at`,
    [visit],
  );
  return rows;
}

async function bed(code: string) {
  const { rows } = await stack.database.db.query<{ status: string; since: Date; visit: string }>(
    `SELECT b.status::text AS status, b.status_since AS since, e.source_ref AS visit
       FROM bed b LEFT JOIN encounter e ON e.id = b.encounter_id WHERE b.code = $1`,
    [code],
  );
  return rows[0]!;
}

async function lastMessages(count: number) {
  const { rows } = await stack.database.db.query<{
    id: string;
    status: string;
    reason: string | null;
    duplicateOf: string | null;
  }>(
    `SELECT id::text AS id, status::text AS status, error_reason AS reason,
            duplicate_of::text AS "duplicateOf"
       FROM hl7_message ORDER BY hl7_message.id DESC LIMIT $1`,
    [count],
  );
  return rows.reverse();
}

describe('HL7 ADT scenarios over MLLP', () => {
  it('admit, transfer, cancel transfer, discharge, cancel discharge, discharge', async () => {
    const visit = { mrn: 'M-100', visit: 'V-100' };
    const freeBefore = await bed('MED-02-A');

    const acks = [
      await send({ ...visit, event: 'A01', at: minute(0), bed: 'MED-01-A' }),
      await send({ ...visit, event: 'A02', at: minute(10), bed: 'MED-02-A' }),
      await send({ ...visit, event: 'A12', at: minute(12), bed: 'MED-02-A' }),
      await send({ ...visit, event: 'A03', at: minute(20), bed: 'MED-01-A' }),
      await send({ ...visit, event: 'A13', at: minute(22), bed: 'MED-01-A' }),
      await send({ ...visit, event: 'A03', at: minute(30), bed: 'MED-01-A' }),
    ];

    expect(acks).toEqual(['AA', 'AA', 'AA', 'AA', 'AA', 'AA']);
    // The cancelled transfer and the cancelled discharge leave no trace in the stays.
    expect(await staysOf('V-100')).toEqual([
      { bed: 'MED-01-A', start: minute(0), end: minute(30) },
    ]);
    expect(await bed('MED-01-A')).toEqual({
      status: 'housekeeping',
      since: minute(30),
      visit: null,
    });
    // The bed the transfer went to is exactly as before it: free since the same instant.
    expect(await bed('MED-02-A')).toEqual(freeBefore);
  });

  it('cancels an admission into a bed awaiting housekeeping back to exactly that state', async () => {
    await send({ mrn: 'M-110', visit: 'V-110', event: 'A01', at: minute(0), bed: 'SUR-01-A' });
    await send({ mrn: 'M-110', visit: 'V-110', event: 'A03', at: minute(5), bed: 'SUR-01-A' });
    const before = await bed('SUR-01-A');
    expect(before.status).toBe('housekeeping');

    // Feeds may put a patient in a bed not yet cleaned; the cancel undoes exactly that.
    expect(
      await send({ mrn: 'M-111', visit: 'V-111', event: 'A01', at: minute(8), bed: 'SUR-01-A' }),
    ).toBe('AA');
    expect(
      await send({ mrn: 'M-111', visit: 'V-111', event: 'A11', at: minute(9), bed: 'SUR-01-A' }),
    ).toBe('AA');

    expect(await bed('SUR-01-A')).toEqual(before);
    expect(await staysOf('V-111')).toEqual([]);
  });

  it('merges two patients: the prior identifier names the survivor from then on', async () => {
    await send({ mrn: 'M-200', visit: 'V-200', event: 'A01', at: minute(0), bed: 'SUR-02-A' });
    await send({ mrn: 'M-201', visit: 'V-201', event: 'A01', at: minute(1), bed: 'SUR-02-B' });
    const time = hl7Time(minute(2));
    const merge = [
      `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|${time}||ADT^A40^ADT_A39|MERGE-1|P|2.5`,
      `EVN|A40|${time}`,
      'PID|1||M-200^^^NGH^MR||Doe^Jane',
      'MRG|M-201^^^NGH^MR',
    ].join('\r');

    expect((await stack.send(merge)).code).toBe('AA');

    const { rows } = await stack.database.db.query<{ visit: string; patient: string }>(
      `SELECT source_ref AS visit, patient_id AS patient FROM encounter
        WHERE source_ref IN ('V-200', 'V-201') ORDER BY source_ref`,
    );
    expect(rows[0]!.patient).toBe(rows[1]!.patient);
    // Beds do not move in a merge.
    expect((await bed('SUR-02-A')).visit).toBe('V-200');
    expect((await bed('SUR-02-B')).visit).toBe('V-201');
    // A later message under the retired MRN reaches the survivor's visit.
    expect(
      await send({ mrn: 'M-201', visit: 'V-201', event: 'A03', at: minute(5), bed: 'SUR-02-B' }),
    ).toBe('AA');
    expect(await staysOf('V-201')).toEqual([{ bed: 'SUR-02-B', start: minute(1), end: minute(5) }]);
  });

  it('acknowledges an exact retransmission without applying it twice', async () => {
    const message = adt({
      controlId: 'RT-1',
      mrn: 'M-300',
      visit: 'V-300',
      event: 'A01',
      at: minute(0),
      bed: 'ED-01-A',
    });

    const first = await stack.send(message);
    // The resend went through another engine that turned CR into CRLF.
    const again = await stack.send(`${message.replaceAll('\r', '\r\n')}\r\n`);

    expect([first.code, again.code]).toEqual(['AA', 'AA']);
    const [original, duplicate] = await lastMessages(2);
    expect(original).toMatchObject({ status: 'applied' });
    expect(duplicate).toMatchObject({ status: 'duplicate', duplicateOf: original!.id });
    expect(await staysOf('V-300')).toEqual([{ bed: 'ED-01-A', start: minute(0), end: null }]);
    const events = await stack.database.db.query(
      `SELECT 1 FROM event e JOIN encounter v ON v.id = e.encounter_id
        WHERE v.source_ref = 'V-300'`,
    );
    expect(events.rowCount).toBe(1);
  });

  it('applies one of two copies arriving at once on two connections', async () => {
    const message = adt({
      controlId: 'RT-2',
      mrn: 'M-310',
      visit: 'V-310',
      event: 'A01',
      at: minute(0),
      bed: 'ED-02-A',
    });
    const [a, b] = await Promise.all([stack.connect(), stack.connect()]);

    const acks = await Promise.all([a.send(Buffer.from(message)), b.send(Buffer.from(message))]);

    expect(acks.map((ack) => readAck(ack).code)).toEqual(['AA', 'AA']);
    expect((await lastMessages(2)).map((row) => row.status).sort()).toEqual([
      'applied',
      'duplicate',
    ]);
    expect(await staysOf('V-310')).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('never takes a reused control id for a retransmission', async () => {
    const visit = { mrn: 'M-400', visit: 'V-400', controlId: 'REUSED' };
    expect(await send({ ...visit, event: 'A01', at: minute(0), bed: 'ED-01-B' })).toBe('AA');
    expect(await send({ ...visit, event: 'A03', at: minute(40), bed: 'ED-01-B' })).toBe('AA');

    expect((await lastMessages(2)).map((row) => row.status)).toEqual(['applied', 'applied']);
    expect(await staysOf('V-400')).toEqual([{ bed: 'ED-01-B', start: minute(0), end: minute(40) }]);
  });

  it('refuses an event older than the visit it changes, and keeps it', async () => {
    const visit = { mrn: 'M-500', visit: 'V-500' };
    const acks = [
      await send({ ...visit, event: 'A01', at: minute(0), bed: 'MED-01-B' }),
      await send({ ...visit, event: 'A02', at: minute(20), bed: 'MED-02-B' }),
      // Late: the transfer at minute 10 reaches us after the one at minute 20.
      await send({ ...visit, event: 'A02', at: minute(10), bed: 'SUR-01-B' }),
      await send({ ...visit, event: 'A03', at: minute(30), bed: 'MED-02-B' }),
    ];

    expect(acks).toEqual(['AA', 'AA', 'AE before_current_state', 'AA']);
    expect(await staysOf('V-500')).toEqual([
      { bed: 'MED-01-B', start: minute(0), end: minute(20) },
      { bed: 'MED-02-B', start: minute(20), end: minute(30) },
    ]);
    expect((await bed('SUR-01-B')).status).toBe('free');
    const { rows } = await stack.database.db.query(
      `SELECT status::text AS status, ack_code AS ack FROM hl7_message
        WHERE error_reason = 'before_current_state'`,
    );
    expect(rows).toEqual([{ status: 'rejected', ack: 'AE' }]);
  });

  it('puts a patient the feed first sees in a transfer into that bed, and refuses the late admission', async () => {
    const visit = { mrn: 'M-510', visit: 'V-510' };
    expect(await send({ ...visit, event: 'A02', at: minute(15), bed: 'SUR-02-A' })).toBe(
      'AE bed_occupied',
    );
    expect(await send({ ...visit, event: 'A02', at: minute(15), bed: 'ED-02-B' })).toBe('AA');
    expect(await send({ ...visit, event: 'A01', at: minute(5), bed: 'ED-01-A' })).toBe(
      'AE before_current_state',
    );
    expect(await staysOf('V-510')).toEqual([{ bed: 'ED-02-B', start: minute(15), end: null }]);
  });

  it('swaps two patients between their beds (A17)', async () => {
    await send({ mrn: 'M-600', visit: 'V-600', event: 'A01', at: minute(100), bed: 'MED-01-A' });
    await send({ mrn: 'M-601', visit: 'V-601', event: 'A01', at: minute(100), bed: 'MED-02-A' });
    const time = hl7Time(minute(101));
    const swap = [
      `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|${time}||ADT^A17^ADT_A17|SWAP-1|P|2.5`,
      `EVN|A17|${time}`,
      'PID|1||M-600^^^NGH^MR',
      'PV1|1|I|MED^01^A||||||||||||||||V-600',
      'PID|1||M-601^^^NGH^MR',
      'PV1|1|I|MED^02^A||||||||||||||||V-601',
    ].join('\r');

    expect((await stack.send(swap)).code).toBe('AA');
    expect((await bed('MED-01-A')).visit).toBe('V-601');
    expect((await bed('MED-02-A')).visit).toBe('V-600');
  });

  it('takes a batch file with a BOM and LF separators, answering each message in a batch ACK', async () => {
    const time = hl7Time(minute(1));
    const message = (id: string, event: string) =>
      adt({
        controlId: id,
        mrn: 'M-700',
        visit: 'V-700',
        event,
        at: minute(event === 'A01' ? 1 : 2),
        bed: 'SUR-01-B',
      });
    const batch = Buffer.from(
      `\ufeffFHS|^~\\&|PAS|NGH|||${time}\nBHS|^~\\&|PAS|NGH|||${time}||||BATCH-7\n` +
        `${message('B1', 'A01').replaceAll('\r', '\n')}\n${message('B2', 'A03').replaceAll('\r', '\n')}\n` +
        'BTS|2\nFTS|1\n',
    );

    const ack = readAck(await (await stack.connect()).send(batch));

    expect(ack.all.map((one) => `${one.code} ${one.controlId}`)).toEqual(['AA B1', 'AA B2']);
    const { rows } = await stack.database.db.query<{ status: string; batch: string | null }>(
      `SELECT status::text AS status, batch_index AS batch
         FROM hl7_message ORDER BY hl7_message.id DESC LIMIT 3`,
    );
    expect(rows.reverse()).toEqual([
      { status: 'batch', batch: null },
      { status: 'applied', batch: 0 },
      { status: 'applied', batch: 1 },
    ]);
    expect(await staysOf('V-700')).toEqual([{ bed: 'SUR-01-B', start: minute(1), end: minute(2) }]);
  });

  it('keeps a refused message and applies it when reprocessed once its cause is gone', async () => {
    // The discharge arrives before the admission it ends (the sender's queue was reordered).
    const visit = { mrn: 'M-800', visit: 'V-800', bed: 'OBS-01-A' };
    expect(await send({ ...visit, event: 'A03', at: minute(62) })).toBe('AE unknown_encounter');
    const [refused] = await lastMessages(1);
    expect(await send({ ...visit, event: 'A01', at: minute(61) })).toBe('AA');

    const again = await stack.listener.processor.reprocess(refused!.id);

    expect(again.outcome).toMatchObject({ status: 'applied', ackCode: 'AA' });
    expect(await staysOf('V-800')).toEqual([
      { bed: 'OBS-01-A', start: minute(61), end: minute(62) },
    ]);
    const { rows } = await stack.database.db.query(
      `SELECT attempts, status::text AS status FROM hl7_message WHERE id = $1`,
      [refused!.id],
    );
    expect(rows).toEqual([{ attempts: 2, status: 'applied' }]);
    await expect(stack.listener.processor.reprocess(refused!.id)).rejects.toMatchObject({
      reason: 'already_applied',
    });
  });

  // Reported: after a pre-admission (A05), a discharge that overtook its admission was
  // acknowledged as a no-op, and the late A01 then left the patient in the bed for good.
  it('keeps a discharge of a pre-admitted visit in no bed, to apply after its A01', async () => {
    const visit = { mrn: 'M-810', visit: 'V-810' };
    expect(await send({ ...visit, event: 'A05', at: minute(60), bed: 'OBS-01-B' })).toBe('AA');
    expect(await send({ ...visit, event: 'A03', at: minute(70), bed: 'OBS-01-B' })).toBe(
      'AE not_admitted',
    );
    const [refused] = await lastMessages(1);
    expect(refused).toMatchObject({ status: 'rejected', reason: 'not_admitted' });
    expect(await send({ ...visit, event: 'A01', at: minute(65), bed: 'OBS-01-B' })).toBe('AA');

    const again = await stack.listener.processor.reprocess(refused!.id);

    expect(again.outcome).toMatchObject({ status: 'applied', ackCode: 'AA' });
    expect(await staysOf('V-810')).toEqual([
      { bed: 'OBS-01-B', start: minute(65), end: minute(70) },
    ]);
    expect(await bed('OBS-01-B')).toMatchObject({ status: 'housekeeping', since: minute(70) });
  });

  it('ends an emergency visit in no bed with a note, not a refusal', async () => {
    const visit = { mrn: 'M-820', visit: 'V-820', patientClass: 'E' };
    expect(await send({ ...visit, event: 'A04', at: minute(60) })).toBe('AA');
    expect(await send({ ...visit, event: 'A03', at: minute(90) })).toBe('AA');
    const [discharge] = await lastMessages(1);
    expect(discharge).toMatchObject({ status: 'applied', reason: null });
  });

  it('loses nothing acknowledged when a connection drops mid-message', async () => {
    const message = (n: number) =>
      Buffer.from(
        adt({
          controlId: `DROP-${n}`,
          mrn: `M-90${n}`,
          visit: `V-90${n}`,
          event: 'A04',
          at: minute(70),
          patientClass: 'O',
        }),
      );
    const client = await stack.connect();
    const acked = await Promise.all([1, 2, 3].map((n) => client.send(message(n))));
    expect(acked.map((ack) => readAck(ack).code)).toEqual(['AA', 'AA', 'AA']);

    // Half of the fourth frame, then the line goes dead.
    const fourth = encodeMllpFrame(message(4));
    client.writeRaw(fourth.subarray(0, fourth.length >> 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stored = async () =>
      (
        await stack.database.db.query<{ id: string }>(
          `SELECT control_id AS id FROM hl7_message
            WHERE control_id LIKE 'DROP-%' ORDER BY hl7_message.id`,
        )
      ).rows.map((row) => row.id);
    expect(await stored()).toEqual(['DROP-1', 'DROP-2', 'DROP-3']);
    // The sender never got an ACK for the fourth: it resends it, whole, and it applies.
    expect((await stack.send(message(4))).code).toBe('AA');
    expect(await stored()).toEqual(['DROP-1', 'DROP-2', 'DROP-3', 'DROP-4']);
  });

  it('stores and applies a complete message whose sender vanished before the ACK', async () => {
    const message = Buffer.from(
      adt({
        controlId: 'GONE-1',
        mrn: 'M-950',
        visit: 'V-950',
        event: 'A01',
        at: minute(80),
        bed: 'MED-02-B',
      }),
    );
    const client = await stack.connect();
    client.writeRaw(encodeMllpFrame(message));
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(await staysOf('V-950')).toHaveLength(1);
    // Its resend is recognised and acknowledged without a second stay.
    expect((await stack.send(message)).code).toBe('AA');
    expect((await lastMessages(1))[0]).toMatchObject({ status: 'duplicate' });
    expect(await staysOf('V-950')).toHaveLength(1);
  });
});
