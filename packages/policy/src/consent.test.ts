import { isMedaxisError } from '@medaxis/domain';
import { describe, expect, it } from 'vitest';

import { checkConsentInput, consentState, type ConsentRecord } from './consent.ts';
import { repositoryConfig } from './test-config.ts';

const { policies } = repositoryConfig();
const patientId = '00000000-0000-4000-8000-000000000001';

let nextId = 1;
function record(
  policy: string,
  action: ConsentRecord['action'],
  from: string,
  to: string | null,
  recordedAt = from,
): ConsentRecord {
  return {
    id: String(nextId++),
    patientId,
    policy,
    action,
    validFrom: new Date(from),
    validTo: to ? new Date(to) : null,
    recordedBy: 'test',
    recordedAt: new Date(recordedAt),
  };
}

const at = (instant: string) => new Date(instant);

describe('consent state', () => {
  it('is each policy’s default when the patient has no record', () => {
    const state = consentState([], policies, at('2026-06-01T00:00:00Z'));
    expect(Object.fromEntries(state)).toEqual({
      listing: 'permit',
      secondary_use: 'permit',
      vip: 'permit',
      mental_health: 'permit',
      protected_person: 'permit',
    });
  });

  it('applies a restriction over its period [validFrom, validTo) only', () => {
    const records = [record('listing', 'restrict', '2026-06-01T00:00:00Z', '2026-06-10T00:00:00Z')];
    const listing = (instant: string) =>
      consentState(records, policies, at(instant)).get('listing');

    expect(listing('2026-05-31T23:59:59.999Z')).toBe('permit');
    expect(listing('2026-06-01T00:00:00Z')).toBe('restrict');
    expect(listing('2026-06-09T23:59:59.999Z')).toBe('restrict');
    expect(listing('2026-06-10T00:00:00Z')).toBe('permit');
  });

  it('keeps an open-ended restriction in effect until further notice', () => {
    const records = [record('vip', 'restrict', '2026-01-01T00:00:00Z', null)];
    expect(consentState(records, policies, at('2036-01-01T00:00:00Z')).get('vip')).toBe('restrict');
  });

  it('lets a later grant lift a restriction for the grant’s period, then restricts again', () => {
    const records = [
      record('secondary_use', 'restrict', '2026-01-01T00:00:00Z', null),
      record('secondary_use', 'grant', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
    ];
    const state = (instant: string) =>
      consentState(records, policies, at(instant)).get('secondary_use');

    expect(state('2026-02-15T00:00:00Z')).toBe('restrict');
    expect(state('2026-03-15T00:00:00Z')).toBe('permit');
    expect(state('2026-04-15T00:00:00Z')).toBe('restrict');
  });

  it('restricts from the moment a grant is revoked', () => {
    const records = [
      record('secondary_use', 'grant', '2026-01-01T00:00:00Z', null),
      record('secondary_use', 'revoke', '2026-05-01T12:00:00Z', null),
    ];
    const state = (instant: string) =>
      consentState(records, policies, at(instant)).get('secondary_use');

    expect(state('2026-05-01T11:59:59Z')).toBe('permit');
    expect(state('2026-05-01T12:00:00Z')).toBe('restrict');
  });

  it('decides by recording order, not by the periods’ starts', () => {
    // Recorded later, the grant starting earlier still wins where both are in effect.
    const records = [
      record('vip', 'restrict', '2026-03-01T00:00:00Z', null, '2026-02-01T00:00:00Z'),
      record('vip', 'grant', '2026-01-01T00:00:00Z', null, '2026-02-02T00:00:00Z'),
    ];
    expect(consentState(records, policies, at('2026-04-01T00:00:00Z')).get('vip')).toBe('permit');
  });

  it('breaks a tie of recording instants by record id', () => {
    const same = '2026-01-01T00:00:00Z';
    const first = record('vip', 'restrict', same, null);
    const second = record('vip', 'grant', same, null);
    expect(consentState([second, first], policies, at(same)).get('vip')).toBe('permit');
    expect(consentState([first, { ...second, id: '0' }], policies, at(same)).get('vip')).toBe(
      'restrict',
    );
  });

  it('ignores records of a policy the file no longer defines', () => {
    const records = [record('retired_policy', 'restrict', '2026-01-01T00:00:00Z', null)];
    expect(consentState(records, policies, at('2026-02-01T00:00:00Z')).has('retired_policy')).toBe(
      false,
    );
  });
});

describe('consent input checks', () => {
  function refusal(input: Parameters<typeof checkConsentInput>[0]) {
    try {
      checkConsentInput(input, policies, 'records[1]');
    } catch (error) {
      if (isMedaxisError(error))
        return { code: error.code, reason: error.reason, message: error.message };
      throw error;
    }
    return undefined;
  }
  const base = { patientId, policy: 'listing', action: 'restrict' as const };

  it('refuses a period that ends before it starts, naming the record', () => {
    expect(
      refusal({
        ...base,
        validFrom: at('2026-06-10T00:00:00Z'),
        validTo: at('2026-06-01T00:00:00Z'),
      }),
    ).toEqual({
      code: 'VALIDATION',
      reason: 'consent_dates_inverted',
      message:
        'records[1]: validTo (2026-06-01T00:00:00.000Z) must be after validFrom ' +
        '(2026-06-10T00:00:00.000Z).',
    });
  });

  it('refuses an empty period', () => {
    const instant = at('2026-06-01T00:00:00Z');
    expect(refusal({ ...base, validFrom: instant, validTo: instant })?.reason).toBe(
      'consent_dates_inverted',
    );
  });

  it('refuses a policy the file does not define', () => {
    expect(
      refusal({
        ...base,
        policy: 'everything',
        validFrom: at('2026-06-01T00:00:00Z'),
        validTo: null,
      })?.reason,
    ).toBe('unknown_consent_policy');
  });

  it('accepts an open-ended or a well-ordered period', () => {
    expect(refusal({ ...base, validFrom: at('2026-06-01T00:00:00Z'), validTo: null })).toBe(
      undefined,
    );
    expect(
      refusal({
        ...base,
        validFrom: at('2026-06-01T00:00:00Z'),
        validTo: at('2026-06-01T00:00:00.001Z'),
      }),
    ).toBe(undefined);
  });
});
