import { Writable } from 'node:stream';

import type { BoardEvent } from '@medaxis/api';
import { auditWriterFor } from '@medaxis/audit';
import { MllpClient, readAck } from '@medaxis/interop';
import { createLogger, startMllpListener, type MllpListener } from '@medaxis/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';
import { hl7Time } from './hl7/hl7-support.ts';

/*
 * The whole server on a real socket, fed real-looking patients over HL7 (MLLP): consent holds
 * on live board streams, revocation reaches streams already open, and no patient's name, MRN
 * or birth date reaches the log, whatever the requests, refusals and errors.
 */

let stack: Stack;
let mllp: MllpListener;
/** Everything the MLLP listener logged (the server's own lines are in stack.logs). */
const mllpLogs: string[] = [];

/** The seeded patients: their identity must never appear in a log line. */
const patients = [
  { mrn: 'NGH884201', family: 'Wojcik', given: 'Halina', born: '19520317', bed: 'MED-01-A' },
  { mrn: 'NGH884202', family: 'Abernathy', given: 'Quentin', born: '19890923', bed: 'MED-01-B' },
  { mrn: 'NGH884203', family: 'Szczepanska', given: 'Ottilie', born: '20011130', bed: 'SUR-01-A' },
];

function a01(patient: (typeof patients)[number], controlId: string, at = new Date()): string {
  const [unit, room, bed] = patient.bed.split('-');
  const time = hl7Time(new Date(at.getTime() - 60_000));
  return [
    `MSH|^~\\&|PAS|NGH|MEDAXIS|NGH|${time}||ADT^A01^ADT_A01|${controlId}|P|2.5`,
    `EVN|A01|${time}`,
    `PID|1||${patient.mrn}^^^NGH^MR||${patient.family}^${patient.given}||${patient.born}|F`,
    `PV1|1|I|${unit}^${room}^${bed}||||||||||||||||V-${controlId}`,
  ].join('\r');
}

async function send(message: string) {
  const client = await MllpClient.connect({ host: '127.0.0.1', port: mllp.port });
  try {
    return readAck(await client.send(Buffer.from(message)));
  } finally {
    await client.close();
  }
}

async function patientIdOf(mrn: string): Promise<string> {
  const { rows } = await stack.database.db.query<{ id: string }>(
    `SELECT patient_id::text AS id FROM patient_identity WHERE mrn = $1`,
    [mrn],
  );
  return rows[0]!.id;
}

beforeAll(async () => {
  stack = await startStack();
  await seedSmallHospital(stack.database.db);
  mllp = await startMllpListener({
    db: stack.database.db,
    port: 0,
    host: '127.0.0.1',
    log: createLogger(
      'trace',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          mllpLogs.push(chunk.toString());
          done();
        },
      }),
    ),
    recoveryIntervalMs: 0,
    // As apps/server main.ts wires it: the server's own writer for the database.
    processor: { audit: auditWriterFor(stack.database.db) },
  });
  for (const [index, patient] of patients.entries()) {
    const ack = await send(a01(patient, `C${index}`));
    expect(ack.code).toBe('AA');
  }
});

afterAll(async () => {
  await mllp?.close();
  await stack?.stop();
});

function watchBoard(api: Api, department: string) {
  const events: BoardEvent[] = [];
  const subscription = api.board.events.subscribe(
    { department },
    {
      onData: (message) => {
        if ('id' in message && message.data.kind === 'event') events.push(message.data);
      },
    },
  );
  return { events, unsubscribe: () => subscription.unsubscribe() };
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('consent on live board streams', () => {
  it('hides a patient the moment consent is withdrawn, on a board already open', async () => {
    const display = stack.connect({ device: 'MED' });
    const clinician = stack.connect({ role: 'clinician', departments: ['MED'] });
    const bedId = (await display.api.board.snapshot.query({ department: 'MED' })).departments
      .flatMap((department) => department.rooms.flatMap((room) => room.beds))
      .find((bed) => bed.code === 'MED-01-A')!;
    expect(bedId.initials).toBe('HW');
    const board = watchBoard(display.api, 'MED');
    await waitUntil(() => stack.hub.subscriberCount > 0);

    // The patient asks to be kept off boards and directories (the privacy flag).
    await clinician.api.consent.revoke.mutate({
      patientId: await patientIdOf('NGH884201'),
      policy: 'listing',
    });

    await waitUntil(() => board.events.some((event) => event.type === 'consent-changed'));
    const changed = board.events.find((event) => event.type === 'consent-changed')!;
    expect(changed.beds.find((bed) => bed.code === 'MED-01-A')).toMatchObject({
      status: 'occupied',
      initials: null,
    });
    const after = await display.api.board.snapshot.query({ department: 'MED' });
    const bed = after.departments
      .flatMap((d) => d.rooms.flatMap((r) => r.beds))
      .find((b) => b.code === 'MED-01-A')!;
    expect(bed.initials).toBeNull();
    board.unsubscribe();
    await display.close();
    await clinician.close();
  });

  it('shows a sensitive patient’s bed on the board without identity', async () => {
    const clinician = stack.connect({ role: 'clinician', departments: ['MED'] });
    await clinician.api.consent.record.mutate({
      records: [
        { patientId: await patientIdOf('NGH884202'), policy: 'mental_health', action: 'restrict' },
      ],
    });
    const display = stack.connect({ device: 'MED' });

    const snapshot = await display.api.board.snapshot.query({ department: 'MED' });

    const bed = snapshot.departments
      .flatMap((d) => d.rooms.flatMap((r) => r.beds))
      .find((b) => b.code === 'MED-01-B')!;
    expect(bed).toMatchObject({ status: 'occupied', initials: null });
    await display.close();
    await clinician.close();
  });
});

describe('the logs of a run', () => {
  it('hold no patient name, MRN or birth date, whatever was asked, refused or broken', async () => {
    const manager = stack.connect({ role: 'bed_manager' });
    const scheduler = stack.connect({ role: 'scheduler', departments: ['SUR'] });
    const anonymous = stack.connect({ anonymous: true });
    const id = await patientIdOf('NGH884203');

    // Reads and searches by every identity field, allowed and refused.
    await manager.api.patients.get.query({ id });
    await manager.api.patients.search.query({ mrn: 'NGH884203' });
    await manager.api.patients.search.query({ name: 'Szczepanska' });
    await manager.api.patients.search.query({ birthDate: '2001-11-30' });
    await manager.api.patients.list.query();
    await manager.api.patients.search.query({ name: 'Wojcik' });
    await scheduler.api.patients.search.query({ name: 'Abernathy' }).catch(() => {});
    await anonymous.api.patients.search.query({ name: 'Abernathy' }).catch(() => {});
    // Malformed input carrying identity: refused with 400, never logged.
    await manager.api.patients.search
      .query({ name: 'Wojcik', mrn: 'NGH884201', extra: 'Halina 1952-03-17' } as never)
      .catch(() => {});
    await fetch(`${stack.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: stack.baseUrl },
      body: JSON.stringify({ username: 'no-such-nurse', password: 'NGH884202 Abernathy' }),
    });
    await fetch(
      `${stack.baseUrl}/trpc/patients.get?input=${encodeURIComponent('{"id":"NGH884201"}')}`,
    );
    // HL7: a retransmission, an update with new names, a message that is refused, garbage.
    expect((await send(a01(patients[0]!, 'C0'))).code).toBe('AA');
    const a08 = a01(patients[1]!, 'U1')
      .replace('ADT^A01^ADT_A01', 'ADT^A08^ADT_A01')
      .replace('EVN|A01', 'EVN|A08')
      .replace('Abernathy^Quentin', 'Abernathy-Lowe^Quentin');
    await send(a08);
    const future = a01(patients[2]!, 'X1', new Date(Date.now() + 2 * 86_400_000));
    expect((await send(future)).code).not.toBe('AA');
    await send(`MSH|^~\\&|PAS|NGH\rPID|1||NGH884203^^^NGH^MR||Szczepanska^Ottilie||20011130`);

    // The audit trail, not the log, holds what happened: HL7 writes and the refused sign-in.
    const { rows: audited } = await stack.database.db.query<{ source: string; n: number }>(
      `SELECT source || ':' || operation || ':' || outcome AS source, count(*)::int AS n
         FROM audit_event GROUP BY 1`,
    );
    const kinds = new Set(audited.map((row) => row.source));
    expect(kinds).toContain('auth:login:denied');
    expect([...kinds].some((kind) => kind.startsWith('hl7:'))).toBe(true);
    expect(kinds).toContain('api:patients.search:allowed');

    const logs = [...stack.logs, ...mllpLogs].join('');
    // The check can fail: the run did log, requests and HL7 messages alike.
    expect(stack.logs.length).toBeGreaterThan(0);
    expect(mllpLogs.length).toBeGreaterThan(0);
    expect(logs).toMatch(/auth event/);
    const identities = patients.flatMap((patient) => [
      patient.mrn,
      patient.family,
      patient.given,
      patient.born,
      `${patient.born.slice(0, 4)}-${patient.born.slice(4, 6)}-${patient.born.slice(6)}`,
    ]);
    for (const identity of [...identities, 'Abernathy-Lowe']) {
      expect(logs, identity).not.toContain(identity);
    }
    await manager.close();
    await scheduler.close();
    await anonymous.close();
  });
});

describe('everything a user did', () => {
  it('lists their sign-in, a refused sign-in naming them and their reads', async () => {
    const clinician = stack.connect({ role: 'clinician', departments: ['SUR'] });
    const { username, password } = await clinician.credentials;
    const signIn = (secret: string) =>
      fetch(`${stack.baseUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: stack.baseUrl },
        body: JSON.stringify({ username, password: secret }),
      });
    expect((await signIn('not the password at all')).status).toBe(401);
    expect((await signIn(password!)).status).toBe(200);
    await clinician.api.patients.get.query({ id: await patientIdOf('NGH884203') });
    const officer = stack.connect({ role: 'compliance_officer' }, { purpose: 'audit' });

    const activity = await officer.api.compliance.userActivity.query({ actor: username! });

    const seen = activity.items.map((fact) => `${fact.operation}:${fact.outcome}`);
    expect(seen).toEqual(
      expect.arrayContaining(['login:denied', 'login:allowed', 'patients.get:allowed']),
    );
    await clinician.close();
    await officer.close();
  });
});
