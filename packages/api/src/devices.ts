import {
  auditAuthEvent,
  deviceSetupQrSvg,
  deviceSetupUrl,
  issueDeviceToken,
  revokeDevice,
  type AuthAuditEvent,
} from '@medaxis/auth';
import { listDeviceTokens, type DeviceTokenRow } from '@medaxis/db';
import { isMedaxisError } from '@medaxis/domain';
import { z } from 'zod';

import type { Access, Context } from './context.ts';
import { departmentCode } from './inputs.ts';
import { procedure, router } from './trpc.ts';

/** A device token as an admin sees it: never the token itself, which exists only once. */
export interface DeviceView {
  id: string;
  label: string;
  /** A department code, or null for the whole hospital. */
  board: string | null;
  issuedBy: string | null;
  issuedAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

const deviceId = z.string().regex(/^[0-9a-f]{64}$/, 'expected a device id');

/** Wall displays: issue a token bound to one board, list them, revoke one (device.manage). */
export const devicesRouter = router({
  /**
   * Issues a read-only token for one board. The token comes back this once, inside the setup
   * URL and its QR code; MedAxis keeps only its hash. `origin` is where the display will
   * reach MedAxis (the admin page passes its own).
   */
  issue: procedure
    .meta({ permission: 'device.manage' })
    .input(
      z
        .object({
          label: z.string().trim().min(1).max(100),
          board: departmentCode.nullable(),
          expiresInDays: z.number().int().min(1).max(730).optional(),
          origin: z.url({ protocol: /^https?$/ }),
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      const { token, device } = await audited(
        ctx,
        ctx.access,
        { action: 'device_issued' },
        () =>
          issueDeviceToken(
            ctx.db,
            {
              label: input.label,
              board: input.board,
              issuedBy: ctx.access.actor.kind === 'user' ? ctx.access.actor.id : null,
              expiresInDays: input.expiresInDays,
            },
            ctx.now(),
          ),
        (issued) => issued.device.id,
      );
      const setupUrl = deviceSetupUrl(input.origin, token);
      return {
        device: toDeviceView(device, ctx.now()),
        token,
        setupUrl,
        qrSvg: await deviceSetupQrSvg(setupUrl),
      };
    }),

  list: procedure
    .meta({ permission: 'device.manage' })
    .query(async ({ ctx }) =>
      (await listDeviceTokens(ctx.db)).map((device) => toDeviceView(device, ctx.now())),
    ),

  /** Revokes a token: its display loses the board within seconds (open sockets close too). */
  revoke: procedure
    .meta({ permission: 'device.manage' })
    .input(z.object({ id: deviceId }).strict())
    .mutation(async ({ ctx, input }) => {
      const device = await audited(
        ctx,
        ctx.access,
        { action: 'device_revoked', target: input.id },
        () => revokeDevice(ctx.db, input.id, ctx.now()),
      );
      return toDeviceView(device, ctx.now());
    }),
});

function toDeviceView(device: DeviceTokenRow, now: Date): DeviceView {
  const status =
    device.revokedAt !== null
      ? 'revoked'
      : device.expiresAt.getTime() <= now.getTime()
        ? 'expired'
        : 'active';
  return {
    id: device.id,
    label: device.label,
    board: device.board,
    issuedBy: device.issuedByUsername,
    issuedAt: device.issuedAt.toISOString(),
    expiresAt: device.expiresAt.toISOString(),
    revokedAt: device.revokedAt?.toISOString() ?? null,
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    status,
  };
}

/**
 * Runs an administrative change and records it through the auth audit hook, refused or done:
 * a refusal (unknown role, unknown board, …) is audited with its reason, then thrown on.
 */
export async function audited<T>(
  ctx: Context,
  access: Access,
  event: Pick<AuthAuditEvent, 'action' | 'target' | 'username'>,
  work: () => Promise<T>,
  targetOf?: (result: T) => string,
): Promise<T> {
  const base = {
    ...event,
    actor: { kind: access.actor.kind, id: access.actor.id },
    requestId: ctx.requestId,
    address: ctx.clientAddress,
  };
  try {
    const result = await work();
    await auditAuthEvent(
      ctx.db,
      { ...base, outcome: 'success', ...(targetOf ? { target: targetOf(result) } : {}) },
      ctx.log,
    );
    return result;
  } catch (error) {
    await auditAuthEvent(
      ctx.db,
      { ...base, outcome: 'failure', reason: isMedaxisError(error) ? error.reason : 'error' },
      ctx.log,
    );
    throw error;
  }
}
