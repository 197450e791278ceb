import { appRouter } from '@medaxis/api';
import type { Purpose } from '@medaxis/policy';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';

import { actorWith, callerFor, policyConfig } from '../support/callers.ts';
import { seedSmallHospital } from '../support/fixtures.ts';

/*
 * Every tRPC procedure × every role of config/roles.json, through the one enforcement point,
 * each role under its first purpose of use. The table below is the specification: a new
 * procedure or a new role fails this test until the table says who may use it.
 */

const roles = [
  'admin',
  'bed_manager',
  'charge_nurse',
  'clinician',
  'scheduler',
  'analyst',
  'compliance_officer',
  'wall_display',
  'system',
] as const;
type Role = (typeof roles)[number];

const flow: Role[] = ['bed_manager', 'charge_nurse', 'system'];
const boards: Role[] = [
  'admin',
  'bed_manager',
  'charge_nurse',
  'clinician',
  'wall_display',
  'system',
];
const catalog: Role[] = roles.filter((role) => role !== 'wall_display');
const census: Role[] = roles.filter(
  (role) => !['compliance_officer', 'wall_display'].includes(role),
);
const patientReaders: Role[] = ['bed_manager', 'charge_nurse', 'clinician', 'scheduler', 'system'];

/** Who may use each procedure. Anything not listed is denied. */
const allowed: Record<string, readonly Role[]> = {
  'adt.admit': flow,
  'adt.transfer': flow,
  'adt.discharge': flow,
  'adt.cancelAdmit': flow,
  'adt.cancelTransfer': flow,
  'adt.cancelDischarge': flow,
  'adt.decideAdmission': flow,
  'adt.swap': flow,
  'beds.cleaningStarted': flow,
  'beds.cleaningFinished': flow,
  'beds.block': flow,
  'beds.unblock': flow,
  'beds.reserve': flow,
  'beds.release': flow,
  'beds.setIsolation': flow,
  'board.snapshot': boards,
  'board.events': boards,
  'breakGlass.open': ['clinician'],
  'breakGlass.reviewQueue': ['compliance_officer'],
  'breakGlass.review': ['compliance_officer'],
  'catalog.departments': catalog,
  'catalog.rooms': catalog,
  'catalog.beds': catalog,
  'census.current': census,
  'compliance.patientAccess': ['compliance_officer'],
  'compliance.userActivity': ['compliance_officer'],
  'compliance.breakGlass': ['compliance_officer'],
  'compliance.denials': ['compliance_officer'],
  'compliance.outOfDepartment': ['compliance_officer'],
  'compliance.chainStatus': ['compliance_officer'],
  'compliance.export': ['compliance_officer'],
  'census.at': census,
  'consent.record': ['clinician', 'system'],
  'consent.revoke': ['clinician', 'system'],
  'consent.list': patientReaders,
  'devices.issue': ['admin'],
  'devices.list': ['admin'],
  'devices.revoke': ['admin'],
  'fhir.encounter': patientReaders,
  'fhir.location': catalog,
  'fhir.patient': patientReaders,
  'hl7.message': ['admin', 'bed_manager'],
  'hl7.messages': ['admin', 'bed_manager'],
  'hl7.reprocess': ['admin', 'bed_manager'],
  'imports.rejections': ['admin', 'bed_manager'],
  'imports.rejection': ['admin', 'bed_manager'],
  'imports.reprocess': ['admin', 'bed_manager'],
  'patients.get': patientReaders,
  'patients.record': patientReaders,
  'patients.search': patientReaders,
  'patients.list': patientReaders,
  'patients.count': patientReaders,
  'patients.export': ['analyst', 'system'],
  'quality.summary': ['admin', 'bed_manager'],
  'quality.items': ['admin', 'bed_manager'],
  'users.list': ['admin'],
  'users.add': ['admin'],
  'users.disable': ['admin'],
  'users.resetPassword': ['admin'],
};

interface ProcedureDef {
  _def: {
    type: 'query' | 'mutation' | 'subscription';
    meta?: { permission?: string; patientData?: string };
  };
}
const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
const paths = Object.keys(procedures).sort();

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('authz_matrix');
  await seedSmallHospital(test.db);
});

afterAll(async () => {
  await test?.drop();
});

type Outcome = 'allowed' | 'denied' | 'unauthenticated';

/** The enforcement point's own refusals (no reason: a procedure without a permission). */
const refusals = new Set([undefined, 'permission_not_granted', 'purpose_not_allowed']);

/**
 * Calls a procedure with input no schema accepts. The enforcement point runs before input is
 * parsed, so a refused call fails there, and an allowed one fails next, on its input (or runs,
 * when the procedure takes none): nothing is written either way.
 */
async function probe(role: Role | null, path: string, purpose?: Purpose): Promise<Outcome> {
  const actor = role === null ? null : actorWith([role]);
  const declared =
    purpose ?? (role === null ? 'treatment' : policyConfig.roles.get(role)!.purposes[0]!);
  const caller = callerFor(test.db, actor, declared) as unknown as Record<string, unknown>;
  const call = path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
    input: unknown,
  ) => Promise<unknown>;
  try {
    const result = await call({ matrixProbe: true });
    // A subscription that passed the middleware is an open stream: close it.
    await (result as AsyncIterable<unknown> | undefined)?.[Symbol.asyncIterator]?.().return?.();
    return 'allowed';
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === 'UNAUTHORIZED') return 'unauthenticated';
    // FORBIDDEN for another reason (a department out of scope) came from the procedure itself,
    // after the enforcement point let the call through.
    const reason = (error.cause as { reason?: string } | undefined)?.reason;
    return error.code === 'FORBIDDEN' && refusals.has(reason) ? 'denied' : 'allowed';
  }
}

describe('authorization matrix', () => {
  it('has an entry for every procedure, and none for a procedure that is gone', () => {
    expect(paths).toEqual(Object.keys(allowed).sort());
  });

  it('knows every role of config/roles.json', () => {
    expect([...policyConfig.roles.keys()].sort()).toEqual([...roles].sort());
  });

  it('finds every procedure naming its permission, and patient procedures saying so', () => {
    for (const path of paths) {
      const meta = procedures[path]!._def.meta;
      expect(meta?.permission, path).toBeDefined();
      if (/^(patient|consent|breakglass|audit)\./.test(meta!.permission!)) {
        expect(meta?.patientData, `${path} touches patient data`).toBeDefined();
      }
    }
  });

  describe.each(paths)('%s', (path) => {
    it.each(roles)('as %s', async (role) => {
      const expected = allowed[path]?.includes(role) ? 'allowed' : 'denied';
      expect(await probe(role, path)).toBe(expected);
    });

    it('refuses a request without an actor', async () => {
      expect(await probe(null, path)).toBe('unauthenticated');
    });
  });
});

describe('purpose of use', () => {
  const patientPaths = paths.filter((path) => procedures[path]!._def.meta?.patientData);
  const everyPurpose: Purpose[] = ['treatment', 'operations', 'scheduling', 'analytics', 'audit'];

  it('reaches patient data only under a purpose the role allows', async () => {
    for (const path of patientPaths) {
      for (const role of allowed[path] ?? []) {
        const permitted = policyConfig.roles.get(role)!.purposes;
        for (const purpose of everyPurpose) {
          const outcome = await probe(role, path, purpose);
          expect(outcome, `${role} on ${path} for ${purpose}`).toBe(
            permitted.includes(purpose) ? 'allowed' : 'denied',
          );
        }
      }
    }
  });

  it('keeps an analyst to analytics', async () => {
    expect(await probe('analyst', 'patients.export', 'analytics')).toBe('allowed');
    expect(await probe('analyst', 'patients.export', 'treatment')).toBe('denied');
    expect(await probe('analyst', 'patients.export', 'operations')).toBe('denied');
  });
});
