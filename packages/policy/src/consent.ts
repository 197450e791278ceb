import { ErrorCode, MedaxisError } from '@medaxis/domain';

import type { ConsentPolicies } from './consent-policies.ts';

/**
 * What a consent record says about its policy over its period: `grant` permits the use,
 * `restrict` restricts it, `revoke` withdraws consent given before (the use is restricted
 * from then on, recorded as a withdrawal rather than a new restriction).
 */
export const consentActions = ['grant', 'restrict', 'revoke'] as const;
export type ConsentAction = (typeof consentActions)[number];

export type ConsentDecision = 'permit' | 'restrict';

/** One recorded consent decision of a patient under one policy, over [validFrom, validTo). */
export interface ConsentRecord {
  /** Increasing in recording order (a bigint as a string): breaks ties of `recordedAt`. */
  id: string;
  patientId: string;
  policy: string;
  action: ConsentAction;
  validFrom: Date;
  /** null: until further notice. */
  validTo: Date | null;
  recordedBy: string;
  recordedAt: Date;
}

export type ConsentInput = Pick<
  ConsentRecord,
  'patientId' | 'policy' | 'action' | 'validFrom' | 'validTo'
>;

/**
 * Refuses a consent record that cannot be applied: a policy the file does not define, or a
 * period that ends before it starts. `at` names the record in a batch (`records[1]`).
 */
export function checkConsentInput(input: ConsentInput, policies: ConsentPolicies, at = 'record') {
  if (!policies.policies.has(input.policy)) {
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_consent_policy',
      `${at}: no consent policy "${input.policy}".`,
    );
  }
  if (input.validTo !== null && input.validTo.getTime() <= input.validFrom.getTime()) {
    throw new MedaxisError(
      ErrorCode.validation,
      'consent_dates_inverted',
      `${at}: validTo (${input.validTo.toISOString()}) must be after validFrom ` +
        `(${input.validFrom.toISOString()}).`,
    );
  }
}

/** Whether the record's period covers the instant: [validFrom, validTo). */
export function isInEffect(record: Pick<ConsentRecord, 'validFrom' | 'validTo'>, at: Date) {
  const time = at.getTime();
  return (
    record.validFrom.getTime() <= time &&
    (record.validTo === null || time < record.validTo.getTime())
  );
}

/** Each policy's decision for one patient at an instant. */
export type ConsentState = ReadonlyMap<string, ConsentDecision>;

/**
 * A patient's decision under every policy at `at`: among the records in effect then, the one
 * recorded last wins (a later grant lifts an earlier restriction for its period, and the
 * restriction applies again when the grant ends); with none in effect, the policy's default.
 * Records of policies the file no longer defines have no effect.
 *
 * packages/db evaluates the same rule in SQL for lists and counts (`consentVisibilitySql`);
 * packages/db/test/consent-rule.int.test.ts holds the two to the same answers.
 */
export function consentState(
  records: readonly ConsentRecord[],
  policies: ConsentPolicies,
  at: Date,
): ConsentState {
  const latest = new Map<string, ConsentRecord>();
  for (const record of records) {
    if (!policies.policies.has(record.policy) || !isInEffect(record, at)) continue;
    const current = latest.get(record.policy);
    if (!current || recordedAfter(record, current)) latest.set(record.policy, record);
  }

  const state = new Map<string, ConsentDecision>();
  for (const [name, policy] of policies.policies) {
    const record = latest.get(name);
    state.set(name, record ? (record.action === 'grant' ? 'permit' : 'restrict') : policy.default);
  }
  return state;
}

function recordedAfter(a: ConsentRecord, b: ConsentRecord): boolean {
  const time = a.recordedAt.getTime() - b.recordedAt.getTime();
  if (time !== 0) return time > 0;
  return BigInt(a.id) > BigInt(b.id);
}
