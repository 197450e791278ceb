import { describe, expect, it } from 'vitest';

import { isBreakGlassActive, planBreakGlass } from './break-glass.ts';
import { repositoryConfig } from './test-config.ts';

const { policies } = repositoryConfig();
const settings = policies.breakGlass;
const now = new Date('2026-12-03T12:00:00Z');
const reason = 'Unconscious in ED, need history';

describe('break-glass planning', () => {
  it('lasts the default time unless asked for less', () => {
    expect(planBreakGlass(settings, { reason }, now).expiresAt).toEqual(
      new Date('2026-12-03T13:00:00Z'),
    );
    expect(planBreakGlass(settings, { reason, minutes: 15 }, now).expiresAt).toEqual(
      new Date('2026-12-03T12:15:00Z'),
    );
  });

  it('refuses more than the maximum, or no time at all', () => {
    for (const minutes of [241, 0, -5, 1.5]) {
      expect(() => planBreakGlass(settings, { reason, minutes }, now)).toThrow(
        expect.objectContaining({ code: 'VALIDATION', reason: 'break_glass_too_long' }),
      );
    }
  });

  it('refuses a token reason, counting what remains after trimming', () => {
    expect(() => planBreakGlass(settings, { reason: 'emergency' }, now)).toThrow(
      expect.objectContaining({ reason: 'break_glass_reason_too_short' }),
    );
    expect(() => planBreakGlass(settings, { reason: `   x${' '.repeat(40)}y  ` }, now)).toThrow(
      expect.objectContaining({ reason: 'break_glass_reason_too_short' }),
    );
    expect(planBreakGlass(settings, { reason: `  ${reason}\n` }, now).reason).toBe(reason);
  });
});

describe('break-glass period', () => {
  const grant = { startedAt: now, expiresAt: new Date('2026-12-03T13:00:00Z') };

  it('is active over [startedAt, expiresAt)', () => {
    expect(isBreakGlassActive(grant, new Date('2026-12-03T11:59:59.999Z'))).toBe(false);
    expect(isBreakGlassActive(grant, now)).toBe(true);
    expect(isBreakGlassActive(grant, new Date('2026-12-03T12:59:59.999Z'))).toBe(true);
    expect(isBreakGlassActive(grant, new Date('2026-12-03T13:00:00Z'))).toBe(false);
  });
});
