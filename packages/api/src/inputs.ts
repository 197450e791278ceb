import { z } from 'zod';

/** An instant with an explicit offset; live commands default to now. */
export const instant = z.iso
  .datetime({ offset: true, message: 'expected an ISO 8601 instant with offset' })
  .transform((value) => new Date(value));

export const bedId = z.number().int().positive();
/** Any 8-4-4-4-12 hex id: imported visits (Synthea's) keep ids without an RFC 4122 version. */
export const encounterId = z.guid();
export const departmentCode = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9_-]+$/, 'department codes are letters, digits, - and _');

/** A decimal event id (a bigint kept as a string). */
export const eventId = z.string().regex(/^\d{1,19}$/, 'expected a decimal event id');
