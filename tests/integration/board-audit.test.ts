import type { AuditSink, BoardEvent, BoardStreamFrame } from '@medaxis/api';
import { auditWriterFor, type AuditEvent } from '@medaxis/audit';
import { ensureEncounter, ensurePatient, loadBoardBeds } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { appendTestEvents, seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';

/*
 * A board that shows initials reads patient data, and is audited like any other read: the
 * snapshot, each replayed event and each live event that puts a patient's initials on a
 * screen writes a row naming the board's actor and those patients, committed before the
 * frame leaves. Boards that show no identity write none.
 */

/**
 * The server's own audit writer, with a gate on the board feeds' rows: while it is shut, their
 * `record` waits (nothing is written yet), so a test sees whether an event leaves before its
 * row is committed.
 */
class GatedAudit implements AuditSink {
  #shut = false;
  #waiting: (() => void)[] = [];
  constructor(private readonly inner: AuditSink) {}

  async record(event: AuditEvent): Promise<unknown> {
    if (
      this.#shut &&
      event.operation.startsWith('board.') &&
      event.operation !== 'board.snapshot'
    ) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    return this.inner.record(event);
  }

  get held(): number {
    return this.#waiting.length;
  }

  shut() {
    this.#shut = true;
  }

  open() {
    this.#shut = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

let database: TestDatabase;
let stack: Stack;
let hospital: SmallHospital;
let gate: GatedAudit;
let manager: Api;
const patients: Record<string, string> = {};

beforeAll(async () => {
  database = await createTestDatabase('board_audit');
  gate = new GatedAudit(auditWriterFor(database.db));
  stack = await startStack({ database, audit: gate });
  hospital = await seedSmallHospital(stack.database.db);
  manager = stack.connect({ role: 'bed_manager' }).api;
  await admitNamed('BA-1', 'Wojcik', 'Halina', 'MED-01-A');
  await admitNamed('BA-2', 'Abernathy', 'Quentin', 'MED-01-B');
  await admitNamed('BA-3', 'Szczepanska', 'Ottilie', 'SUR-01-A');
});

afterAll(async () => {
  gate?.open();
  await stack?.stop();
  // The stack leaves a database it was given: this file made it, and drops it.
  await database?.drop();
});

async function admitNamed(mrn: string, familyName: string, givenName: string, bed: string) {
  const db = stack.database.db;
  const patientId = await ensurePatient(db, {
    mrn,
    authority: 'TEST',
    familyName,
    givenName,
    birthDate: '1960-01-02',
    sex: 'F',
  });
  patients[bed] = patientId;
  const encounterId = await ensureEncounter(db, { patientId, class: 'inpatient' });
  await manager.adt.admit.mutate({ bedId: hospital.beds[bed]!, encounterId });
  return patientId;
}

interface Row {
  id: string;
  operation: string;
  action: string;
  outcome: string;
  actorKind: string;
  deviceId: string | null;
  patientIds: string[];
}

async function lastAuditId(): Promise<string> {
  const { rows } = await stack.database.db.query<{ id: string }>(
    `SELECT coalesce(max(id), 0)::text AS id FROM audit_event`,
  );
  return rows[0]!.id;
}

/** The board rows written after `mark`, oldest first. */
async function boardRowsSince(mark: string): Promise<Row[]> {
  const { rows } = await stack.database.db.query<Row>(
    `SELECT id::text, operation, action, outcome, actor_kind AS "actorKind",
            device_id AS "deviceId", patient_ids::text[] AS "patientIds"
       FROM audit_event WHERE id > $1 AND operation LIKE 'board.%' ORDER BY id`,
    [mark],
  );
  return rows;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function initialsOf(snapshotOrEvent: { beds: { code: string; initials: string | null }[] }) {
  return Object.fromEntries(snapshotOrEvent.beds.map((bed) => [bed.code, bed.initials]));
}

describe('board snapshot', () => {
  it('audits the initials a wall display shows, for the patients of its board only', async () => {
    const mark = await lastAuditId();
    const display = stack.connect({ device: 'MED' });
    const snapshot = await display.api.board.snapshot.query({ department: 'MED' });
    const beds = snapshot.departments.flatMap((d) => d.rooms.flatMap((r) => r.beds));
    expect(initialsOf({ beds })).toMatchObject({ 'MED-01-A': 'HW', 'MED-01-B': 'QA' });

    const rows = await boardRowsSince(mark);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      operation: 'board.snapshot',
      action: 'read',
      outcome: 'allowed',
      actorKind: 'device',
    });
    expect(rows[0]!.deviceId).not.toBeNull();
    // The surgery patient is not on this board, and not in its row.
    expect(rows[0]!.patientIds.sort()).toEqual(
      [patients['MED-01-A']!, patients['MED-01-B']!].sort(),
    );
    await display.close();
  });

  it('writes nothing for a board that shows no identity', async () => {
    const mark = await lastAuditId();
    const admin = stack.connect({ role: 'admin' }, { purpose: 'operations' });
    const snapshot = await admin.api.board.snapshot.query();
    const beds = snapshot.departments.flatMap((d) => d.rooms.flatMap((r) => r.beds));
    expect(beds.filter((bed) => bed.status === 'occupied')).toHaveLength(3);
    expect(beds.every((bed) => bed.initials === null)).toBe(true);
    expect(await boardRowsSince(mark)).toEqual([]);
    await admin.close();
  });
});

describe('board.events (tRPC)', () => {
  it('sends an event showing initials only once its audit row is committed', async () => {
    const display = stack.connect({ device: 'MED' });
    const { lastEventId } = await display.api.board.snapshot.query({ department: 'MED' });
    const events: BoardEvent[] = [];
    const subscription = display.api.board.events.subscribe(
      { department: 'MED', lastEventId },
      {
        onData: (message) => {
          if ('id' in message && message.data.kind === 'event') events.push(message.data);
        },
      },
    );
    await waitUntil(() => stack.hub.subscriberCount > 0);
    const mark = await lastAuditId();

    gate.shut();
    await admitNamed('BA-4', 'Lindqvist', 'Maren', 'MED-02-A');
    await waitUntil(() => gate.held > 0);
    await sleep(300);
    expect(events).toEqual([]);

    gate.open();
    await waitUntil(() => events.length > 0);
    expect(initialsOf(events[0]!)).toEqual({ 'MED-02-A': 'ML' });
    const rows = await boardRowsSince(mark);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      operation: 'board.events',
      actorKind: 'device',
      patientIds: [patients['MED-02-A']],
    });
    subscription.unsubscribe();
    await display.close();
  });
});

describe('board stream (wall displays)', () => {
  function openStream(token: string, query: Record<string, string>) {
    const url = new URL('/board-stream', stack.baseUrl.replace('http', 'ws'));
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const socket = new WebSocket(url, { headers: { cookie: `medaxis_device=${token}` } });
    const events: BoardEvent[] = [];
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as BoardStreamFrame;
      if (frame.kind === 'event') events.push(frame.event);
    });
    const opened = new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return { socket, events, opened };
  }

  it('holds a live event showing initials until each board’s row is committed', async () => {
    const first = openStream(await stack.deviceToken('MED'), { department: 'MED' });
    const second = openStream(await stack.deviceToken(null), {});
    await Promise.all([first.opened, second.opened]);
    await waitUntil(() => stack.boardStream.socketCount === 2);
    // Let both finish their (empty) replays and go live.
    await sleep(200);
    const mark = await lastAuditId();

    gate.shut();
    await admitNamed('BA-5', 'Okafor', 'Chidi', 'MED-02-B');
    await waitUntil(() => gate.held >= 2);
    await sleep(300);
    expect([...first.events, ...second.events]).toEqual([]);

    gate.open();
    await waitUntil(() => first.events.length > 0 && second.events.length > 0);
    expect(initialsOf(first.events[0]!)).toEqual({ 'MED-02-B': 'CO' });
    const rows = await boardRowsSince(mark);
    expect(rows.map((row) => row.operation)).toEqual(['board.stream', 'board.stream']);
    expect(new Set(rows.map((row) => row.deviceId)).size).toBe(2);
    for (const row of rows) expect(row.patientIds).toEqual([patients['MED-02-B']]);
    first.socket.close();
    second.socket.close();
  });

  it('writes one row per frame it sends, whether replayed, held during replay, or live', async () => {
    await waitUntil(() => stack.boardStream.socketCount === 0);
    const { lastEventId } = await manager.board.snapshot.query();
    const beds = await loadBoardBeds(stack.database.db, [
      hospital.beds['MED-01-A']!,
      hospital.beds['MED-01-B']!,
    ]);
    const append = () =>
      appendTestEvents(stack.database.db, 20, beds, {
        type: 'test-occupied',
        departmentId: hospital.departments.MED!,
      });
    await append();
    const mark = await lastAuditId();

    // Twenty to replay; twenty more commit while it runs (held, then sent), then twenty live.
    const display = openStream(await stack.deviceToken('MED'), { department: 'MED', lastEventId });
    await append();
    await display.opened;
    await waitUntil(() => display.events.length >= 40);
    await append();
    await waitUntil(() => display.events.length >= 60);
    await sleep(300);

    expect(display.events).toHaveLength(60);
    expect(new Set(display.events.map((event) => event.id)).size).toBe(60);
    for (const event of display.events) {
      expect(initialsOf(event)).toEqual({ 'MED-01-A': 'HW', 'MED-01-B': 'QA' });
    }
    const rows = await boardRowsSince(mark);
    expect(rows).toHaveLength(60);
    for (const row of rows) {
      expect(row.operation).toBe('board.stream');
      expect(row.patientIds.sort()).toEqual([patients['MED-01-A']!, patients['MED-01-B']!].sort());
    }
    display.socket.close();
  });

  it('audits a replayed event as it is sent, and a block event not at all', async () => {
    const { lastEventId } = await manager.board.snapshot.query();
    await manager.beds.block.mutate({ bedId: hospital.beds['SUR-02-A']!, reason: 'maintenance' });
    await admitNamed('BA-6', 'Haddad', 'Samir', 'SUR-02-B');
    const mark = await lastAuditId();

    const display = openStream(await stack.deviceToken('SUR'), { department: 'SUR', lastEventId });
    await waitUntil(() => display.events.length >= 2);
    expect(display.events.map((event) => initialsOf(event))).toEqual([
      { 'SUR-02-A': null },
      { 'SUR-02-B': 'SH' },
    ]);
    const rows = await boardRowsSince(mark);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      operation: 'board.stream',
      patientIds: [patients['SUR-02-B']],
    });
    display.socket.close();
  });
});
