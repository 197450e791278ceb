import { describe, expect, it } from 'vitest';

import { ConfigError } from './config.ts';
import { parseConsentPolicies } from './consent-policies.ts';
import { repositoryConfig } from './test-config.ts';

const { roles, policies } = repositoryConfig();
const file = 'config/consent_policies.json';

/** The repository's file as parsed JSON, a fresh copy each time. */
function repositoryFile(): any {
  return JSON.parse(
    JSON.stringify({
      policies: Object.fromEntries(
        [...policies.policies].map(([name, { name: _name, ...policy }]) => [name, policy]),
      ),
      breakGlass: policies.breakGlass,
    }),
  );
}

describe('config/consent_policies.json', () => {
  it('defines the privacy flag, secondary use and the sensitivity classes', () => {
    expect(
      Object.fromEntries([...policies.policies].map(([name, policy]) => [name, policy.kind])),
    ).toEqual({
      listing: 'privacy',
      secondary_use: 'secondary_use',
      vip: 'sensitivity',
      mental_health: 'sensitivity',
      protected_person: 'sensitivity',
    });
  });

  it('excludes opted-out patients from analytics', () => {
    const secondary = policies.policies.get('secondary_use');
    expect(secondary?.kind === 'secondary_use' && secondary.purposes).toEqual(['analytics']);
  });

  it('caps break-glass at four hours', () => {
    expect(policies.breakGlass.maxMinutes).toBe(240);
  });
});

describe('consent policies loader', () => {
  function refusal(edit: (raw: any) => void): string {
    try {
      const raw = repositoryFile();
      edit(raw);
      parseConsentPolicies(raw, roles, file);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  }

  it('names the file and key of a role that does not exist', () => {
    expect(refusal((raw) => (raw.policies.vip.visibleTo = ['clinician', 'nurse']))).toBe(
      `${file}: policies.vip.visibleTo[1]: unknown role "nurse"`,
    );
  });

  it('names the key of an unknown purpose', () => {
    expect(refusal((raw) => (raw.policies.secondary_use.purposes = ['research']))).toMatch(
      `${file}: policies.secondary_use.purposes[0]: `,
    );
  });

  it('names the key of an unknown kind', () => {
    expect(refusal((raw) => (raw.policies.vip.kind = 'secret'))).toMatch(
      `${file}: policies.vip.kind: `,
    );
  });

  it('names the key of a default that is neither permit nor restrict', () => {
    expect(refusal((raw) => (raw.policies.listing.default = 'deny'))).toMatch(
      `${file}: policies.listing.default: `,
    );
  });

  it('refuses a secondary-use policy without purposes', () => {
    expect(refusal((raw) => delete raw.policies.secondary_use.purposes)).toMatch(
      `${file}: policies.secondary_use.purposes: `,
    );
  });

  it('refuses a break-glass default longer than its maximum', () => {
    expect(refusal((raw) => (raw.breakGlass.defaultMinutes = 600))).toBe(
      `${file}: breakGlass.defaultMinutes: defaultMinutes exceeds maxMinutes`,
    );
  });

  it('refuses a policy name that is not lower_snake_case', () => {
    expect(
      refusal((raw) => {
        raw.policies['VIP!'] = raw.policies.vip;
      }),
    ).toBe(`${file}: policies.VIP!: policy names are lower_snake_case`);
  });
});
