import { randomUUID } from 'node:crypto';

import { compactAuditLog, sealAuditLog, verifyAuditLog } from '@medaxis/audit';
import { addUser } from '@medaxis/auth';
import { ensureEncounter, ensurePatient, type Db } from '@medaxis/db';
import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import type { Actor, Purpose } from '@medaxis/policy';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { actorWith, callerFor, policyConfig } from '../support/callers.ts';
import { seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';

/*
 * Consent and audit through the one enforcement point, on real rows: what each role sees of a
 * restricted patient, revocation, break-glass, the audit row every patient-data call writes,
 * and the compliance officer's reports over live rows and compacted summaries.
 */

let test: TestDatabase;
let db: Db;
let hospital: SmallHospital;
/** In MED-01-A, nothing restricted. */
let open: { patientId: string; encounterId: string };
/** In MED-01-B, restricted under mental_health (identity for clinicians only). */
let sensitive: { patientId: string; encounterId: string };
/** In SUR-01-A, under protection: nobody sees them without breaking the glass. */
let protectedPerson: { patientId: string; encounterId: string };

const system = actorWith(['system']);

/** A call as `actor`, with its own request id so its audit rows can be found. */
function as(actor: Actor, purpose?: Purpose) {
  const requestId = randomUUID();
  const declared = purpose ?? policyConfig.roles.get(actor.roles[0])!.purposes[0]!;
  return { api: callerFor(db, actor, declared, { requestId }), requestId };
}

interface Row {
  action: string;
  operation: string;
  outcome: string;
  reason: string | null;
  actorId: string;
  purpose: string;
  resourceType: string;
  resourceId: string | null;
  patientIds: string[];
}

async function auditRows(requestId: string): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    `SELECT action, operation, outcome, reason, actor_id AS "actorId", purpose,
            resource_type AS "resourceType", resource_id AS "resourceId",
            patient_ids::text[] AS "patientIds"
       FROM audit_event WHERE request_id = $1 ORDER BY id`,
    [requestId],
  );
  return rows;
}

async function admitNamed(
  mrn: string,
  names: { familyName: string; givenName: string },
  bed: string,
) {
  const patientId = await ensurePatient(db, {
    mrn,
    authority: 'TEST',
    ...names,
    birthDate: '1971-05-06',
    sex: 'F',
  });
  const encounterId = await ensureEncounter(db, { patientId, class: 'inpatient' });
  await as(system).api.adt.admit({ bedId: hospital.beds[bed]!, encounterId });
  return { patientId, encounterId };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return { code: (error as TRPCError).code, reason: ((error as TRPCError).cause as any)?.reason };
}

/** A user on record (reports name users by username), with their actor. */
async function user(roles: string[], departments: string[] = []): Promise<Actor> {
  const username = `${roles.join('-').replace(/_/g, '-')}-${randomUUID().slice(0, 6)}`;
  const row = await addUser(db, policyConfig.roles, {
    username,
    password: `a long password for ${username}`,
    roles,
    departments,
  });
  return {
    kind: 'user',
    id: row.id,
    username,
    roles,
    departments,
    sessionId: 'test-session',
  };
}

beforeAll(async () => {
  test = await createTestDatabase('consent_audit');
  db = test.db;
  hospital = await seedSmallHospital(db);
  open = await admitNamed('MRN-7001', { familyName: 'Lindqvist', givenName: 'Maren' }, 'MED-01-A');
  sensitive = await admitNamed(
    'MRN-7002',
    { familyName: 'Ferreira', givenName: 'Tomas' },
    'MED-01-B',
  );
  protectedPerson = await admitNamed(
    'MRN-7003',
    { familyName: 'Nakamura', givenName: 'Eiko' },
    'SUR-01-A',
  );
  await as(system).api.consent.record({
    records: [
      { patientId: sensitive.patientId, policy: 'mental_health', action: 'restrict' },
      { patientId: protectedPerson.patientId, policy: 'protected_person', action: 'restrict' },
    ],
  });
});

afterAll(async () => {
  await test?.drop();
});

describe('a patient restricted by consent', () => {
  const bedManager = () => actorWith(['bed_manager'], '*');

  it('is absent for a role the policy does not name from lists, counts, search and totals', async () => {
    const { api } = as(bedManager());

    const list = await api.patients.list();
    const count = await api.patients.count();
    const search = await api.patients.search({ mrn: 'MRN-7002' });
    const byBirthDate = await api.patients.search({ birthDate: '1971-05-06' });

    expect(list.items.map((item) => item.patientId)).toEqual([open.patientId]);
    expect(count.total).toBe(1);
    expect(count.byDepartment).toEqual([{ department: 'MED', patients: 1 }]);
    expect(search).toEqual({ total: 0, items: [] });
    expect(byBirthDate.total).toBe(1);
    expect(byBirthDate.items.map((item) => item.mrn)).toEqual(['MRN-7001']);
    expect(await refusal(api.patients.get({ id: sensitive.patientId }))).toEqual({
      code: 'NOT_FOUND',
      reason: 'unknown_patient',
    });
  });

  it('is absent from exports, which carry no identity for analytics', async () => {
    const { api } = as(actorWith(['analyst'], '*'), 'analytics');

    const exported = await api.patients.export({ format: 'csv' });

    // Sensitivity classes hide the patient from roles they do not name, analysts included.
    expect(exported.rows).toBe(1);
    expect(exported.body.split('\n')[0]).toBe('departmentCode,bedCode,inBedSince,encounterClass');
    expect(exported.body).not.toMatch(/MRN-|Lindqvist|Ferreira|Nakamura/);
  });

  it('is seen by the role the policy names, in that role’s departments', async () => {
    const { api } = as(actorWith(['clinician'], ['MED']));

    const list = await api.patients.list();

    expect(list.items.map((item) => item.mrn).sort()).toEqual(['MRN-7001', 'MRN-7002']);
    expect(list.items.every((item) => !item.breakGlass)).toBe(true);
  });

  it('is hidden from the next request once the patient revokes consent', async () => {
    const patient = await admitNamed(
      'MRN-7004',
      { familyName: 'Okonkwo', givenName: 'Ife' },
      'MED-02-A',
    );
    const { api: scheduler } = as(actorWith(['scheduler'], ['MED']));
    expect((await scheduler.patients.search({ mrn: 'MRN-7004' })).total).toBe(1);

    await as(actorWith(['clinician'], ['MED'])).api.consent.revoke({
      patientId: patient.patientId,
      policy: 'vip',
    });

    expect((await scheduler.patients.search({ mrn: 'MRN-7004' })).total).toBe(0);
    expect(await refusal(scheduler.patients.get({ id: patient.patientId }))).toEqual({
      code: 'NOT_FOUND',
      reason: 'unknown_patient',
    });
    expect((await scheduler.patients.count()).total).toBe(1);
  });
});

describe('break-glass', () => {
  it('opens a protected patient to the clinician for a while, flagged and queued for review', async () => {
    const clinician = await user(['clinician'], ['SUR']);
    const officer = await user(['compliance_officer']);
    const { api } = as(clinician);
    expect(await refusal(api.patients.get({ id: protectedPerson.patientId }))).toEqual({
      code: 'NOT_FOUND',
      reason: 'unknown_patient',
    });

    await as(clinician).api.breakGlass.open({
      patientId: protectedPerson.patientId,
      reason: 'Unconscious on arrival, needs history',
      minutes: 30,
    });
    const read = as(clinician);
    const view = await read.api.patients.get({ id: protectedPerson.patientId });

    expect(view).toMatchObject({ mrn: 'MRN-7003', breakGlass: true });
    expect(await auditRows(read.requestId)).toEqual([
      expect.objectContaining({
        outcome: 'allowed',
        reason: 'break_glass',
        patientIds: [protectedPerson.patientId],
      }),
    ]);

    const review = await as(officer, 'audit').api.compliance.breakGlass({ status: 'pending' });
    const item = review.items.find((entry) => entry.userId === clinician.id)!;
    expect(item).toMatchObject({
      patientId: protectedPerson.patientId,
      userName: (clinician as { username: string }).username,
      reason: 'Unconscious on arrival, needs history',
      // The override itself and the read it allowed.
      flaggedAccesses: 2,
      reviewedAt: null,
    });

    await as(officer, 'audit').api.breakGlass.review({ id: item.id, note: 'Justified: ED' });

    const pending = await as(officer, 'audit').api.compliance.breakGlass({ status: 'pending' });
    const reviewed = await as(officer, 'audit').api.compliance.breakGlass({ status: 'reviewed' });
    expect(pending.items.map((entry) => entry.id)).not.toContain(item.id);
    expect(reviewed.items.find((entry) => entry.id === item.id)).toMatchObject({
      reviewNote: 'Justified: ED',
      reviewedByName: (officer as { username: string }).username,
    });
  });
});

describe('the audit row of each call touching patient data', () => {
  const clinician = () => actorWith(['clinician'], ['MED']);

  it.each([
    ['patients.get', 'read', (api: Api) => api.patients.get({ id: open.patientId }), 'open'],
    ['patients.search', 'search', (api: Api) => api.patients.search({ mrn: 'MRN-7001' }), 'open'],
    ['patients.list', 'read', (api: Api) => api.patients.list({ department: 'MED' }), 'listed'],
    ['patients.count', 'read', (api: Api) => api.patients.count(), 'none'],
    ['consent.list', 'read', (api: Api) => api.consent.list({ patientId: open.patientId }), 'open'],
  ] as const)(
    '%s writes one %s row naming the patients it returned',
    async (path, action, call, who) => {
      const { api, requestId } = as(clinician());

      const result = (await call(api)) as { items?: { patientId: string | null }[] };

      const listed = (result.items ?? []).map((item) => item.patientId!).sort();
      const patients = who === 'open' ? [open.patientId] : who === 'listed' ? listed : [];
      if (who === 'listed') expect(listed).toContain(sensitive.patientId);
      expect(await auditRows(requestId)).toEqual([
        {
          action,
          operation: path,
          outcome: 'allowed',
          reason: null,
          actorId: clinician().id,
          purpose: 'treatment',
          resourceType: 'patient',
          resourceId: patients[0] ?? null,
          patientIds: patients,
        },
      ]);
    },
  );

  it('records an export as an export, under the purpose it was made for', async () => {
    const analyst = actorWith(['analyst'], '*');
    const { api, requestId } = as(analyst, 'analytics');

    await api.patients.export();

    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({ action: 'export', purpose: 'analytics', outcome: 'allowed' }),
    ]);
  });

  it('records an ADT command as a write on the encounter, naming its patient', async () => {
    const { api, requestId } = as(actorWith(['bed_manager'], '*'));

    await api.adt.transfer({ encounterId: open.encounterId, bedId: hospital.beds['MED-02-B']! });

    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({
        action: 'write',
        operation: 'adt.transfer',
        outcome: 'allowed',
        resourceType: 'encounter',
        resourceId: open.encounterId,
        patientIds: [open.patientId],
      }),
    ]);
  });

  it('records a consent decision as a write', async () => {
    const { api, requestId } = as(clinician());

    await api.consent.record({
      records: [{ patientId: open.patientId, policy: 'secondary_use', action: 'grant' }],
    });

    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({
        action: 'write',
        operation: 'consent.record',
        patientIds: [open.patientId],
      }),
    ]);
  });

  it('records a read refused by consent as denied, while the caller only hears NOT_FOUND', async () => {
    const { api, requestId } = as(actorWith(['bed_manager'], '*'));

    await refusal(api.patients.get({ id: sensitive.patientId }));

    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({
        outcome: 'denied',
        reason: 'consent_restricted',
        patientIds: [sensitive.patientId],
      }),
    ]);
  });

  it('records a purpose the role may not use as denied, and a malformed call as an error', async () => {
    const refused = as(actorWith(['scheduler'], ['MED']), 'treatment');
    const malformed = as(clinician());
    const unknown = as(clinician());

    await refusal(refused.api.patients.get({ id: open.patientId }));
    await refusal(malformed.api.patients.get({ id: 'not-a-uuid' }));
    await refusal(unknown.api.patients.get({ id: randomUUID() }));

    expect(await auditRows(refused.requestId)).toEqual([
      expect.objectContaining({ outcome: 'denied', reason: 'purpose_not_allowed' }),
    ]);
    expect(await auditRows(malformed.requestId)).toEqual([
      expect.objectContaining({ outcome: 'error', reason: 'BAD_REQUEST', patientIds: [] }),
    ]);
    // A patient that does not exist is no denial: nobody was kept from anything.
    expect(await auditRows(unknown.requestId)).toEqual([
      expect.objectContaining({ outcome: 'error', reason: 'NOT_FOUND:unknown_patient' }),
    ]);
  });

  it('records a consent record with inverted dates as an error, writing nothing else', async () => {
    const { api, requestId } = as(clinician());

    const refused = await refusal(
      api.consent.record({
        records: [
          {
            patientId: open.patientId,
            policy: 'vip',
            action: 'restrict',
            validFrom: '2026-12-05T00:00:00Z',
            validTo: '2026-12-04T00:00:00Z',
          },
        ],
      }),
    );

    expect(refused).toEqual({ code: 'BAD_REQUEST', reason: 'consent_dates_inverted' });
    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({
        action: 'write',
        outcome: 'error',
        reason: 'VALIDATION:consent_dates_inverted',
      }),
    ]);
  });

  it('writes no row for calls that touch no patient data', async () => {
    const { api, requestId } = as(actorWith(['bed_manager'], '*'));

    await api.catalog.departments();
    await api.census.current();

    expect(await auditRows(requestId)).toEqual([]);
  });
});

type Api = ReturnType<typeof callerFor>;

describe('compliance reports', () => {
  it('answer who accessed a patient and why, from live rows and compacted summaries alike', async () => {
    const patient = await admitNamed(
      'MRN-7010',
      { familyName: 'Brennan', givenName: 'Cora' },
      'SUR-02-A',
    );
    const nurse = await user(['charge_nurse'], ['SUR']);
    const officer = await user(['compliance_officer']);
    for (let i = 0; i < 5; i++) await as(nurse).api.patients.get({ id: patient.patientId });
    await sealAuditLog(db);
    const compacted = await compactAuditLog(db, { afterMs: 0, minRun: 2 });
    expect(compacted.replaced).toBeGreaterThanOrEqual(5);
    const later = as(nurse);
    await later.api.patients.get({ id: patient.patientId });

    const report = await as(officer, 'audit').api.compliance.patientAccess({
      patientId: patient.patientId,
    });

    const byNurse = report.items.filter((fact) => fact.actorId === nurse.id);
    expect(byNurse.map((fact) => [fact.kind, fact.count, fact.purpose, fact.operation])).toEqual([
      ['event', 1, 'treatment', 'patients.get'],
      ['summary', 5, 'treatment', 'patients.get'],
    ]);
    expect(byNurse[0]!.requestId).toBe(later.requestId);
    expect(byNurse[1]!.actorName).toBe((nurse as { username: string }).username);
    expect(Date.parse(byNurse[1]!.firstAt)).toBeLessThanOrEqual(Date.parse(byNurse[1]!.lastAt));
    // The ADT admit by the system is a fact about the patient too.
    expect(report.items.some((fact) => fact.operation === 'adt.admit')).toBe(true);
    expect((await verifyAuditLog(db)).ok).toBe(true);

    const activity = await as(officer, 'audit').api.compliance.userActivity({
      actor: (nurse as { username: string }).username,
    });
    expect(activity.items.map((fact) => fact.count).reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('filter by time range and page', async () => {
    const officer = await user(['compliance_officer']);
    const { api } = as(officer, 'audit');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    // Each look at the report is itself an access to the patient's trail, so pages are read
    // up to a fixed instant.
    const to = new Date().toISOString();

    const none = await api.compliance.patientAccess({ patientId: open.patientId, from: future });
    const one = await api.compliance.patientAccess({ patientId: open.patientId, to, limit: 1 });
    const next = await api.compliance.patientAccess({
      patientId: open.patientId,
      to,
      limit: 1,
      offset: 1,
    });

    expect(none).toEqual({ total: 0, items: [] });
    expect(one.items).toHaveLength(1);
    expect(one.total).toBeGreaterThan(1);
    expect(next.items[0]!.id).not.toBe(one.items[0]!.id);
  });

  it('list consent denials with their reason', async () => {
    const officer = await user(['compliance_officer']);

    const denials = await as(officer, 'audit').api.compliance.denials({});

    expect(denials.items).toContainEqual(
      expect.objectContaining({
        reason: 'consent_restricted',
        patientIds: [sensitive.patientId],
        operation: 'patients.get',
      }),
    );
    expect(denials.items.every((fact) => fact.outcome === 'denied')).toBe(true);
  });

  it('list access to patients outside the user’s departments', async () => {
    const officer = await user(['compliance_officer']);
    const wide = await user(['charge_nurse', 'bed_manager'], ['MED']);
    await as(wide).api.patients.get({ id: open.patientId });
    await as(wide)
      .api.patients.get({ id: protectedPerson.patientId })
      .catch(() => {});
    const surgery = await admitNamed(
      'MRN-7020',
      { familyName: 'Haddad', givenName: 'Rami' },
      'SUR-02-B',
    );
    await as(wide).api.patients.get({ id: surgery.patientId });

    const report = await as(officer, 'audit').api.compliance.outOfDepartment({});

    const mine = report.items.filter((fact) => fact.actorId === wide.id);
    expect(mine.map((fact) => [fact.patientId, fact.patientDepartment])).toEqual([
      [surgery.patientId, 'SUR'],
    ]);
    expect(mine[0]!.userDepartments).toEqual(['MED']);
  });

  it('export as CSV, itself audited as an export of the audit log', async () => {
    const officer = await user(['compliance_officer']);
    const { api, requestId } = as(officer, 'audit');

    const csv = await api.compliance.export({
      report: 'patientAccess',
      patientId: open.patientId,
    });

    const [header, ...lines] = csv.body.trim().split('\n');
    expect(header).toMatch(/^firstAt,lastAt,count,kind,id,actorKind,actorId,actorName,/);
    expect(lines.length).toBe(csv.rows);
    expect(csv.rows).toBeGreaterThan(0);
    expect(csv.body).not.toMatch(/MRN-7001|Lindqvist/);
    expect(await auditRows(requestId)).toEqual([
      expect.objectContaining({
        action: 'export',
        operation: 'compliance.export',
        resourceType: 'audit_log',
        purpose: 'audit',
        outcome: 'allowed',
      }),
    ]);
  });

  it('keep a spreadsheet from running a typed reason as a formula', async () => {
    const clinician = await user(['clinician'], ['SUR']);
    const officer = await user(['compliance_officer']);
    await as(clinician).api.breakGlass.open({
      patientId: protectedPerson.patientId,
      reason: '=HYPERLINK("http://x.example")',
    });

    const csv = await as(officer, 'audit').api.compliance.export({ report: 'breakGlass' });

    expect(csv.body).toContain(`"'=HYPERLINK(""http://x.example"")"`);
  });

  it('show the chain verified and its seals', async () => {
    const officer = await user(['compliance_officer']);

    const status = await as(officer, 'audit').api.compliance.chainStatus();

    expect(status.verify).toMatchObject({ ok: true, firstProblem: null });
    expect(status.seals.total).toBeGreaterThan(0);
    expect(status.seals.items[0]).toMatchObject({
      kind: expect.any(String),
      hash: expect.any(String),
    });
  });

  it('are refused to every other role, and to a compliance officer for another purpose', async () => {
    for (const role of ['admin', 'bed_manager', 'clinician', 'analyst', 'system']) {
      const { api } = as(actorWith([role], ['MED']));
      expect(await refusal(api.compliance.patientAccess({ patientId: open.patientId }))).toEqual({
        code: 'FORBIDDEN',
        reason: 'permission_not_granted',
      });
    }
    const officer = await user(['compliance_officer']);
    expect(await refusal(as(officer, 'treatment').api.compliance.denials({}))).toEqual({
      code: 'FORBIDDEN',
      reason: 'purpose_not_allowed',
    });
  });

  it('refuse malformed filters with BAD_REQUEST', async () => {
    const officer = await user(['compliance_officer']);
    const { api } = as(officer, 'audit');

    for (const input of [
      { patientId: 'x' },
      { patientId: open.patientId, from: 'yesterday' },
      { patientId: open.patientId, limit: 10_000 },
      { patientId: open.patientId, extra: 1 },
    ]) {
      expect((await refusal(api.compliance.patientAccess(input as never))).code).toBe(
        'BAD_REQUEST',
      );
    }
  });
});
