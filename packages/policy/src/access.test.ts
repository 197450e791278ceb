import { describe, expect, it } from 'vitest';

import {
  boardInitials,
  decideAccess,
  patientInView,
  type AccessGranted,
  type AccessRequest,
} from './access.ts';
import type { Actor, Purpose } from './actor.ts';
import type { BreakGlassGrant } from './break-glass.ts';
import { consentState, type ConsentRecord } from './consent.ts';
import type { Permission } from './permissions.ts';
import { repositoryConfig } from './test-config.ts';

const { roles, policies } = repositoryConfig();
const now = new Date('2026-12-03T12:00:00Z');
const patientId = '00000000-0000-4000-8000-00000000000a';

function user(roleNames: string[], departments: string[] | '*' = ['MED']): Actor {
  return {
    kind: 'user',
    id: 'user-1',
    username: 'u',
    roles: roleNames,
    departments,
    sessionId: 's',
  };
}

function decide(
  actor: Actor,
  permission: Permission,
  purpose: Purpose,
  extra: Partial<AccessRequest> = {},
) {
  return decideAccess({
    roles,
    policies,
    actor,
    permission,
    purpose,
    patientData: true,
    breakGlass: [],
    now,
    ...extra,
  });
}

function granted(decision: ReturnType<typeof decide>): AccessGranted {
  if (!decision.allow) throw new Error(`denied: ${decision.reason}`);
  return decision;
}

/** A patient's consent state with one restriction in effect now. */
function restricted(policy: string) {
  const record: ConsentRecord = {
    id: '1',
    patientId,
    policy,
    action: 'restrict',
    validFrom: new Date('2026-01-01T00:00:00Z'),
    validTo: null,
    recordedBy: 'test',
    recordedAt: new Date('2026-01-01T00:00:00Z'),
  };
  return consentState([record], policies, now);
}
const unrestricted = consentState([], policies, now);

describe('access decision', () => {
  it('denies by default: a permission none of the roles grants', () => {
    expect(decide(user(['scheduler']), 'patient.export', 'scheduling')).toEqual({
      allow: false,
      reason: 'permission_not_granted',
    });
    expect(decide(user(['no_such_role']), 'board.read', 'treatment').allow).toBe(false);
  });

  describe('purpose of use', () => {
    it('lets an analyst read patient data for analytics only', () => {
      const analyst = user(['analyst']);
      expect(decide(analyst, 'patient.export', 'analytics').allow).toBe(true);
      for (const purpose of ['treatment', 'operations', 'scheduling', 'audit'] as const) {
        expect(decide(analyst, 'patient.export', purpose)).toEqual({
          allow: false,
          reason: 'purpose_not_allowed',
        });
      }
    });

    it('keeps a clinician to treatment', () => {
      expect(decide(user(['clinician']), 'patient.read', 'treatment').allow).toBe(true);
      expect(decide(user(['clinician']), 'patient.read', 'analytics').allow).toBe(false);
    });

    it('lets a procedure without patient data through under any purpose, seeing no identity', () => {
      const decision = granted(
        decide(user(['admin']), 'board.read', 'treatment', { patientData: false }),
      );
      expect(decision.fieldMask.level).toBe('none');
      expect(decision.auditPurpose).toBe('treatment');
    });

    it('reads a user with two roles as the role that fits the purpose, never a mix', () => {
      const both = user(['clinician', 'analyst'], ['MED']);
      const treating = granted(decide(both, 'patient.read', 'treatment'));
      expect(treating.fieldMask.level).toBe('full');
      expect(treating.departments).toEqual(['MED']);

      const analysing = granted(decide(both, 'patient.export', 'analytics'));
      expect(analysing.fieldMask.level).toBe('none');
      expect(analysing.departments).toBe('*');
    });
  });

  describe('field mask', () => {
    it.each([
      ['bed_manager', 'patient.read', 'treatment', 'full'],
      ['clinician', 'patient.read', 'treatment', 'full'],
      ['scheduler', 'patient.search', 'scheduling', 'full'],
      ['analyst', 'patient.export', 'analytics', 'none'],
      ['wall_display', 'board.read', 'operations', 'initials'],
      ['admin', 'board.read', 'operations', 'none'],
    ] as const)('gives %s on %s for %s %s identity', (role, permission, purpose, level) => {
      const decision = granted(decide(user([role]), permission, purpose));
      expect(decision.fieldMask.level).toBe(level);
    });

    it('shows no identity for a secondary use, whatever the role', () => {
      const system: Actor = { kind: 'system', id: 'system', roles: ['system'], departments: '*' };
      expect(granted(decide(system, 'patient.export', 'analytics')).fieldMask.fields.size).toBe(0);
      expect(granted(decide(system, 'patient.export', 'operations')).fieldMask.level).toBe('full');
    });

    it('gives a wall display initials and nothing else', () => {
      const decision = granted(decide(user(['wall_display']), 'board.read', 'operations'));
      expect([...decision.fieldMask.fields]).toEqual(['initials']);
    });
  });

  describe('row filter', () => {
    it('hides a privacy-flagged patient from roles the policy does not name', () => {
      const filter = granted(decide(user(['scheduler']), 'patient.search', 'scheduling')).rowFilter;
      expect(filter.hideIfRestricted).toContain('listing');
      expect(patientInView(filter, patientId, restricted('listing')).visible).toBe(false);
      expect(patientInView(filter, patientId, unrestricted).visible).toBe(true);
    });

    it('keeps a privacy-flagged patient in view of the clinicians and charge nurses', () => {
      for (const role of ['clinician', 'charge_nurse']) {
        const filter = granted(decide(user([role]), 'patient.read', 'treatment')).rowFilter;
        expect(patientInView(filter, patientId, restricted('listing')).visible).toBe(true);
      }
    });

    it('shows a sensitivity class only to the roles it names', () => {
      const bedManager = granted(decide(user(['bed_manager']), 'patient.read', 'treatment'));
      const chargeNurse = granted(decide(user(['charge_nurse']), 'patient.read', 'treatment'));
      expect(patientInView(bedManager.rowFilter, patientId, restricted('vip')).visible).toBe(true);
      expect(patientInView(chargeNurse.rowFilter, patientId, restricted('vip')).visible).toBe(
        false,
      );
      const clinician = granted(decide(user(['clinician']), 'patient.read', 'treatment'));
      expect(
        patientInView(clinician.rowFilter, patientId, restricted('protected_person')).visible,
      ).toBe(false);
    });

    it('leaves an opted-out patient out of analytics but not out of care', () => {
      const analytics = granted(decide(user(['analyst']), 'patient.export', 'analytics'));
      const care = granted(decide(user(['clinician']), 'patient.read', 'treatment'));
      expect(
        patientInView(analytics.rowFilter, patientId, restricted('secondary_use')).visible,
      ).toBe(false);
      expect(patientInView(care.rowFilter, patientId, restricted('secondary_use')).visible).toBe(
        true,
      );
    });

    it('scopes assigned roles to their departments and evaluates consent at the request', () => {
      const filter = granted(
        decide(user(['charge_nurse'], ['MED', 'ICU']), 'patient.read', 'treatment'),
      ).rowFilter;
      expect(filter.departments).toEqual(['MED', 'ICU']);
      expect(filter.at).toBe(now);
    });
  });

  describe('break-glass', () => {
    const grant = (overrides: Partial<BreakGlassGrant> = {}): BreakGlassGrant => ({
      id: '1',
      userId: 'user-1',
      patientId,
      startedAt: new Date('2026-12-03T11:30:00Z'),
      expiresAt: new Date('2026-12-03T12:30:00Z'),
      ...overrides,
    });

    it('puts the patient in view of the clinician, flagged, while it lasts', () => {
      const decision = granted(
        decide(user(['clinician']), 'patient.read', 'treatment', { breakGlass: [grant()] }),
      );
      expect(decision.breakGlass).toBe(true);
      expect(patientInView(decision.rowFilter, patientId, restricted('protected_person'))).toEqual({
        visible: true,
        breakGlass: true,
      });
      // A patient in view anyway is not flagged: the override revealed nothing there.
      expect(patientInView(decision.rowFilter, patientId, unrestricted)).toEqual({
        visible: true,
        breakGlass: false,
      });
    });

    it('ends at its expiry, to the millisecond', () => {
      const expiresAt = new Date(now.getTime());
      const decision = granted(
        decide(user(['clinician']), 'patient.read', 'treatment', {
          breakGlass: [grant({ expiresAt })],
        }),
      );
      expect(decision.breakGlass).toBe(false);
      expect(decision.rowFilter.breakGlassPatients).toEqual([]);
    });

    it('counts for neither another user, another purpose, nor a role without the right', () => {
      const other = decide(user(['clinician']), 'patient.read', 'treatment', {
        breakGlass: [grant({ userId: 'user-2' })],
      });
      expect(granted(other).breakGlass).toBe(false);

      const scheduler = decide(user(['scheduler']), 'patient.read', 'scheduling', {
        breakGlass: [grant()],
      });
      expect(granted(scheduler).rowFilter.breakGlassPatients).toEqual([]);
    });
  });

  describe('board initials', () => {
    const wall = granted(
      decide(user(['wall_display']), 'board.read', 'operations', { patientData: false }),
    );

    it('shows initials on a wall display where consent allows', () => {
      expect(boardInitials(wall, unrestricted, 'AB')).toBe('AB');
    });

    it('never shows a privacy-flagged patient on a board, even to a clinician', () => {
      const clinician = granted(decide(user(['clinician']), 'board.read', 'treatment'));
      expect(boardInitials(wall, restricted('listing'), 'AB')).toBe(null);
      expect(boardInitials(clinician, restricted('listing'), 'AB')).toBe(null);
    });

    it('shows a sensitivity class only to roles it names', () => {
      const bedManager = granted(decide(user(['bed_manager']), 'board.read', 'operations'));
      expect(boardInitials(wall, restricted('vip'), 'AB')).toBe(null);
      expect(boardInitials(bedManager, restricted('vip'), 'AB')).toBe('AB');
    });

    it('shows no initials to a role without identity', () => {
      const admin = granted(decide(user(['admin']), 'board.read', 'operations'));
      expect(boardInitials(admin, unrestricted, 'AB')).toBe(null);
    });
  });
});
