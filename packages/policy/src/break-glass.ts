import { ErrorCode, MedaxisError } from '@medaxis/domain';

import type { BreakGlassSettings } from './consent-policies.ts';

/** A clinician's override of one patient's consent restrictions, over [startedAt, expiresAt). */
export interface BreakGlassGrant {
  id: string;
  userId: string;
  patientId: string;
  startedAt: Date;
  expiresAt: Date;
}

export function isBreakGlassActive(
  grant: Pick<BreakGlassGrant, 'startedAt' | 'expiresAt'>,
  at: Date,
) {
  const time = at.getTime();
  return grant.startedAt.getTime() <= time && time < grant.expiresAt.getTime();
}

/**
 * The period of a new override and its checked reason. The reason is what a compliance
 * officer reviews, so a token one ("x", "emergency") is refused; the length is capped so an
 * override cannot quietly become standing access.
 */
export function planBreakGlass(
  settings: BreakGlassSettings,
  input: { reason: string; minutes?: number | undefined },
  now: Date,
): { reason: string; startedAt: Date; expiresAt: Date } {
  const reason = input.reason.trim().replace(/\s+/g, ' ');
  if (reason.length < settings.minReasonLength) {
    throw new MedaxisError(
      ErrorCode.validation,
      'break_glass_reason_too_short',
      `Say why in at least ${settings.minReasonLength} characters.`,
    );
  }
  const minutes = input.minutes ?? settings.defaultMinutes;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > settings.maxMinutes) {
    throw new MedaxisError(
      ErrorCode.validation,
      'break_glass_too_long',
      `An override lasts 1 to ${settings.maxMinutes} minutes.`,
    );
  }
  return { reason, startedAt: now, expiresAt: new Date(now.getTime() + minutes * 60_000) };
}
