import {
  consentState,
  parseConsentPolicies,
  parseRoles,
  type ConsentRecord,
  type RowFilter,
} from '@medaxis/policy';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { consentVisibilitySql, createAnonymousPatient, Params } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/*
 * Lists, counts and searches decide consent in SQL (consentVisibilitySql); single patients
 * and boards decide it in packages/policy (consentState). Both must give the same answer for
 * any history of records at any instant, or a patient hidden from a list would show on a board.
 */

let test: TestDatabase;
let patientId: string;

const roles = parseRoles({
  roles: Object.fromEntries(
    [
      'admin',
      'bed_manager',
      'charge_nurse',
      'clinician',
      'scheduler',
      'analyst',
      'compliance_officer',
      'wall_display',
      'system',
    ].map((name) => [
      name,
      {
        description: name,
        departmentScope: 'all',
        permissions: ['patient.read'],
        purposes: ['treatment'],
        identity: 'full',
      },
    ]),
  ),
});
// One policy permitted by default, one restricted by default (opt-in).
const policies = parseConsentPolicies(
  {
    policies: {
      listing: { kind: 'privacy', description: 'x', default: 'permit', visibleTo: [] },
      research: {
        kind: 'secondary_use',
        description: 'x',
        default: 'restrict',
        purposes: ['analytics'],
      },
    },
    breakGlass: { defaultMinutes: 10, maxMinutes: 10, minReasonLength: 1 },
  },
  roles,
);

const day = 86_400_000;
const base = Date.parse('2026-06-01T00:00:00Z');
/** Instants on a coarse grid, so periods often start, end and get recorded at the same ones. */
const instant = fc.integer({ min: 0, max: 12 }).map((n) => new Date(base + n * day));

const recordArbitrary = fc
  .record({
    policy: fc.constantFrom('listing', 'research', 'retired'),
    action: fc.constantFrom('grant', 'restrict', 'revoke' as const),
    from: instant,
    length: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
    recordedAt: instant,
  })
  .map((r): Omit<ConsentRecord, 'id' | 'patientId'> => ({
    policy: r.policy,
    action: r.action,
    validFrom: r.from,
    validTo: r.length === null ? null : new Date(r.from.getTime() + r.length * day),
    recordedBy: 'test',
    recordedAt: r.recordedAt,
  }));

beforeAll(async () => {
  test = await createTestDatabase('consent_rule');
  patientId = await createAnonymousPatient(test.db);
});

afterAll(async () => {
  await test?.drop();
});

async function sqlVisible(policy: string, at: Date): Promise<boolean> {
  const restrictedByDefault = policies.policies.get(policy)?.default === 'restrict';
  const filter = {
    departments: '*',
    hideIfRestricted: restrictedByDefault ? [] : [policy],
    hideUnlessGranted: restrictedByDefault ? [policy] : [],
    breakGlassPatients: [],
    at,
  } as unknown as RowFilter;
  const params = new Params();
  const id = params.add(patientId);
  const sql = consentVisibilitySql('p.id', filter, params);
  const { rows } = await test.db.query<{ visible: boolean }>(
    `SELECT ${sql.visible} AS visible FROM patient p ${sql.join} WHERE p.id = ${id}::uuid`,
    params.values,
  );
  return rows[0]!.visible;
}

describe('consent rule in SQL and in packages/policy', () => {
  it('agrees for any history of records at any instant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArbitrary, { maxLength: 8 }),
        fc.array(instant, { minLength: 1, maxLength: 4 }),
        async (drafts, instants) => {
          await test.db.query(`DELETE FROM patient_consent`);
          const records: ConsentRecord[] = [];
          for (const draft of drafts) {
            const { rows } = await test.db.query<{ id: string }>(
              `INSERT INTO patient_consent
                 (patient_id, policy, action, valid_from, valid_to, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id`,
              [
                patientId,
                draft.policy,
                draft.action,
                draft.validFrom,
                draft.validTo,
                draft.recordedBy,
                draft.recordedAt,
              ],
            );
            records.push({ ...draft, id: rows[0]!.id, patientId });
          }

          for (const at of instants) {
            const state = consentState(records, policies, at);
            for (const policy of ['listing', 'research']) {
              expect(await sqlVisible(policy, at), `${policy} at ${at.toISOString()}`).toBe(
                state.get(policy) === 'permit',
              );
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
