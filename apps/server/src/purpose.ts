import type { IncomingHttpHeaders } from 'node:http';

import { purposes, type Purpose } from '@medaxis/policy';
import { TRPCError } from '@trpc/server';

/** The header a client declares its purpose of use in (HL7's PurposeOfUse, in our words). */
export const purposeHeader = 'x-purpose-of-use';

/**
 * The purpose of use a request declares: the `x-purpose-of-use` header, or over the
 * websocket the connection parameter `purposeOfUse` (browsers cannot set headers on a
 * websocket). None declared means treatment. Anything else is a client error (400): guessing
 * a purpose would put the wrong one in the audit trail. Whether the actor's roles allow it is
 * the enforcement point's question (packages/api trpc.ts), not this one.
 */
export function purposeOfUse(
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string> | null,
): Purpose {
  const declared = headers[purposeHeader] ?? connectionParams?.purposeOfUse;
  if (declared === undefined || declared === '') return 'treatment';
  const value = Array.isArray(declared) ? declared.join(',') : declared.trim().toLowerCase();
  if (!(purposes as readonly string[]).includes(value)) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `${purposeHeader} must be one of ${purposes.join(', ')}.`,
    });
  }
  return value as Purpose;
}
