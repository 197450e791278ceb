import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { realdataDir } from '@medaxis/db/testing';
import { readAck, splitFile, type MllpClient } from '@medaxis/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startHl7Stack, type Hl7Stack } from './hl7-support.ts';

const realdata = realdataDir;
const folders = ['hl7v2-library-fixtures', 'hl7v2-msft-fhir-converter'];
const missing = folders.some((folder) => !existsSync(join(realdata, folder)));
if (missing) console.warn(`skipped: ${realdata}/hl7v2-* not found (CI always has it)`);

type Expected = [file: string, acks: string, status: string, reasonOrNote: string];

/**
 * Every file, sent in this order over one MLLP connection into the small test hospital (site
 * time zone UTC), and what must become of it: the ACK code(s), the stored status, and the
 * rejection reason or the note. Files build on each other (the library fixtures share one
 * visit, the Microsoft samples another), so an outcome may depend on the files before it.
 */
const expected: Expected[] = [
  // Machete: one visit (facility 1, visit 40007716). An A02 for a visit never admitted puts
  // the patient in the bed (feeds join mid-stream); the A11 cancels that admission even though
  // its EVN-1 says A03 (MSH-9 wins); with the admission cancelled there is no transfer to
  // cancel and no discharge to cancel.
  [
    'machete__A02_transfer_lf.hl7',
    'AA',
    'applied',
    'the visit was in no bed: applied as an admission',
  ],
  ['machete__A11_cancel_admit_EVN_says_A03_lf.hl7', 'AA', 'applied', ''],
  ['machete__A12_cancel_transfer_EVN_says_A02_lf.hl7', 'AE', 'rejected', 'not_in_bed'],
  ['machete__A13_cancel_discharge_EVN_says_A01_trimmed_lf.hl7', 'AE', 'rejected', 'not_discharged'],
  // Epic: PV1-3 "168 ~219~C~PMA" holds an unescaped '~': the first repetition is a point of
  // care without a bed, so the outpatient visit is registered without a bed stay.
  [
    'medplum__epic_A04_lf_pv1_3_repetition.hl7',
    'AA',
    'applied',
    'no bed in PV1-3: visit recorded without a bed stay',
  ],
  // An ACK with '_' as field separator: read with its own separators, stored, not applied.
  ['medplum__nonstandard_field_separator_ack.hl7', 'AR', 'unsupported', 'unsupported_message_type'],
  // v2.1: MSH-9 is just "ADT" and there is no EVN segment: no trigger event anywhere.
  ['medplum__v21_msh9_no_trigger_cr.hl7', 'AR', 'rejected', 'no_trigger_event'],
  // A batch (FHS/BHS) around one A04 with no visit number, no location, birth year 1013.
  [
    'python-hl7__batch_A04_cr.hl7',
    'AA',
    'applied',
    'birth date in PID-7 ignored: not a plausible date; no visit number (PV1-19 or PID-18): patient recorded, no visit',
  ],
  // Microsoft samples: one visit (GHHSFacility, 40007716) in HUH AE OMU / OMU B / Bed 03, every
  // file with control id MSG00001 (reused for different events: none is taken for another).
  // Event time is EVN-6 (20210817151943.4+0200).
  ['ADT-A01-01.hl7', 'AA', 'applied', ''],
  ['ADT-A01-02.hl7', 'AA', 'applied', 'already in this bed'],
  ['ADT-A02-01.hl7', 'AA', 'applied', 'already in this bed'],
  ['ADT-A02-02.hl7', 'AA', 'applied', 'already in this bed'],
  ['ADT-A03-01.hl7', 'AA', 'applied', ''],
  ['ADT-A03-02.hl7', 'AA', 'applied', 'already discharged'],
  // Registering a discharged visit into a bed again is refused by the state machine.
  ['ADT-A04-01.hl7', 'AE', 'rejected', 'encounter_finished'],
  ['ADT-A04-02.hl7', 'AE', 'rejected', 'encounter_finished'],
  // A pre-admission stands; its bed cannot be reserved for a finished visit.
  ['ADT-A05-01.hl7', 'AA', 'applied', 'bed in PV1-3 not reserved: encounter_finished'],
  ['ADT-A05-02.hl7', 'AA', 'applied', 'bed in PV1-3 not reserved: encounter_finished'],
  // Another visit (5001): outpatient to inpatient into SPROOM / ROOM2 / BED-1, then back to
  // outpatient, which changes the class and leaves the bed stay running.
  ['ADT-A06-01.hl7', 'AA', 'applied', ''],
  ['ADT-A06-02.hl7', 'AA', 'applied', 'already in this bed'],
  ['ADT-A07-01.hl7', 'AA', 'applied', 'now outpatient: the bed stay goes on until A03'],
  ['ADT-A07-02.hl7', 'AA', 'applied', 'now outpatient: the bed stay goes on until A03'],
  [
    'ADT-A08-01.hl7',
    'AA',
    'applied',
    'PV1-3 differs from the bed the visit lies in: A08 moves no one',
  ],
  [
    'ADT-A08-02.hl7',
    'AA',
    'applied',
    'PV1-3 differs from the bed the visit lies in: A08 moves no one',
  ],
  ['ADT-A09-01.hl7', 'AR', 'unsupported', 'unsupported_event'],
  ['ADT-A09-02.hl7', 'AR', 'unsupported', 'unsupported_event'],
  ['ADT-A10-01.hl7', 'AR', 'unsupported', 'unsupported_event'],
  ['ADT-A10-02.hl7', 'AR', 'unsupported', 'unsupported_event'],
  // The visit was discharged (A03 above): no admission in a bed to cancel.
  ['ADT-A11-01.hl7', 'AE', 'rejected', 'not_in_bed'],
  ['ADT-A11-02.hl7', 'AE', 'rejected', 'not_in_bed'],
  // The discharge is cancelled: back in Bed 03 exactly as before; the second finds nothing.
  ['ADT-A13-01.hl7', 'AA', 'applied', ''],
  ['ADT-A13-02.hl7', 'AE', 'rejected', 'not_discharged'],
  ...['A14', 'A15', 'A16', 'A25', 'A26', 'A27', 'A28', 'A29', 'A31'].flatMap((event) =>
    ['01', '02'].map((n): Expected => [
      `ADT-${event}-${n}.hl7`,
      'AR',
      'unsupported',
      'unsupported_event',
    ]),
  ),
  // Merges: 56789 into 12345 (unknown here, kept as an alias); the second file repeats that
  // merge and adds 569 into 145.
  [
    'ADT-A40-01.hl7',
    'AA',
    'applied',
    'prior identifier unknown here: kept as an alias of the surviving patient',
  ],
  [
    'ADT-A40-02.hl7',
    'AA',
    'applied',
    'already merged; prior identifier unknown here: kept as an alias of the surviving patient',
  ],
  ...['A41', 'A45', 'A47', 'A60'].flatMap((event) =>
    ['01', '02'].map((n): Expected => [
      `ADT-${event}-${n}.hl7`,
      'AR',
      'unsupported',
      'unsupported_event',
    ]),
  ),
  // UTF-8 BOM files. ADT01-23 is the Machete visit again: its cancelled admission lets it in.
  ['ADT01-23.hl7', 'AA', 'applied', ''],
  ['ADT01-28.hl7', 'AA', 'applied', ''],
  ['ADT04-23.hl7', 'AA', 'applied', 'no bed in PV1-3: visit recorded without a bed stay'],
  ['ADT04-251.hl7', 'AA', 'applied', 'no bed in PV1-3: visit recorded without a bed stay'],
  ['ADT04-28.hl7', 'AA', 'applied', ''],
  ...['S12-01', 'S12-02', 'S12_1', 'S13-01', 'S13-02', 'S14-01', 'S14-02', 'S15-01', 'S15-02']
    .concat(['S16-01', 'S16-02', 'S17-01', 'S17-02', 'S26-01', 'S26-02'])
    .map((name): Expected => [`SIU-${name}.hl7`, 'AR', 'unsupported', 'unsupported_message_type']),
  // Named SIU but an ADT^A60 inside: the message decides, not the file name.
  ['SIU_12.hl7', 'AR', 'unsupported', 'unsupported_event'],
];

let stack: Hl7Stack;
let client: MllpClient;
const results = new Map<string, { acks: string; status: string; reasonOrNote: string }>();

beforeAll(async () => {
  if (missing) return;
  stack = await startHl7Stack();
  client = await stack.connect();
  for (const folder of folders) {
    const dir = join(realdata, folder);
    for (const file of readdirSync(dir)
      .filter((name) => name.endsWith('.hl7'))
      .sort()) {
      const acks: string[] = [];
      for (const frame of splitFile(readFileSync(join(dir, file)))) {
        acks.push(...readAck(await client.send(frame)).all.map((ack) => ack.code));
      }
      // The last message row of the file (a batch's envelope comes before its messages).
      const { rows } = await stack.database.db.query<{ status: string; reason: string }>(
        `SELECT status::text AS status, coalesce(error_reason, note, '') AS reason
           FROM hl7_message ORDER BY id DESC LIMIT 1`,
      );
      results.set(file, {
        acks: acks.join(','),
        status: rows[0]!.status,
        reasonOrNote: rows[0]!.reason,
      });
    }
  }
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
});

describe.skipIf(missing)('real HL7 v2 files over MLLP (../shared/realdata)', () => {
  it('expects an outcome for every file there is, and nothing else', () => {
    expect([...results.keys()].sort()).toEqual(expected.map(([file]) => file).sort());
  });

  it.each(expected)('%s: %s, %s (%s)', (file, acks, status, reasonOrNote) => {
    expect(results.get(file)).toEqual({ acks, status, reasonOrNote });
  });

  it('stores every message with its bytes exactly as in the file', async () => {
    const { rows } = await stack.database.db.query<{ raw: Buffer; batch: string | null }>(
      `SELECT raw, batch_id AS batch FROM hl7_message WHERE batch_id IS NULL ORDER BY id`,
    );
    const files = folders.flatMap((folder) =>
      readdirSync(join(realdata, folder))
        .filter((name) => name.endsWith('.hl7'))
        .sort()
        .flatMap((name) => splitFile(readFileSync(join(realdata, folder, name)))),
    );
    expect(rows.map((row) => row.raw)).toEqual(files);
  });

  it('dates events by EVN-6 with its fraction and offset, and puts patients where PV1-3 says', async () => {
    const { rows } = await stack.database.db.query<{ bed: string; start: Date; end: Date | null }>(
      `SELECT b.code AS bed, s.start_at AS start, s.end_at AS end
         FROM bed_stay s JOIN bed b ON b.id = s.bed_id
        WHERE NOT s.cancelled ORDER BY s.id`,
    );
    expect(rows.find((row) => row.bed === 'HUH_AE_OMU-OMU_B-BED_03')).toEqual({
      bed: 'HUH_AE_OMU-OMU_B-BED_03',
      start: new Date('2021-08-17T13:19:43.400Z'),
      // Discharged (A03) and the discharge cancelled (A13): the stay is open again.
      end: null,
    });
    expect(rows.map((row) => row.bed)).toEqual(
      expect.arrayContaining(['SPROOM-ROOM2-BED-1', 'PREOP-101-1', '2000-2012-01', '3N-136-B']),
    );
  });

  it('creates locations it has not seen on first use, flagged for review', async () => {
    const { rows } = await stack.database.db.query<{ code: string; review: boolean }>(
      `SELECT code, needs_review AS review FROM department ORDER BY code`,
    );
    const created = rows.filter((row) => !['ED', 'MED', 'SUR'].includes(row.code));
    expect(created.map((row) => row.code)).toEqual(
      expect.arrayContaining(['HUH_AE_OMU', 'IN1', 'PREOP', 'SPROOM', '3N', '168']),
    );
    expect(created.every((row) => row.review)).toBe(true);
    const beds = await stack.database.db.query<{ review: boolean }>(
      `SELECT needs_review AS review FROM bed WHERE code = 'IN1-214-1'`,
    );
    expect(beds.rows).toEqual([{ review: true }]);
  });
});
