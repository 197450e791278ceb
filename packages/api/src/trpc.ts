import { activeBreakGlass } from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';
import { decideAccess, grants } from '@medaxis/policy';
import { initTRPC, TRPCError } from '@trpc/server';

import type { AuditOutcome } from '@medaxis/audit';
import type { Actor } from '@medaxis/policy';

import type { Access, Context, ProcedureMeta } from './context.ts';
import { toTrpcError } from './errors.ts';

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // Never a stack trace or a source path to the client, whatever NODE_ENV says: the server
    // log has them (apps/server logs every INTERNAL_SERVER_ERROR with its cause).
    isDev: false,
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      return {
        ...shape,
        data: {
          ...shape.data,
          // Callers branch on these, never on the message.
          medaxis: isMedaxisError(cause) ? { code: cause.code, reason: cause.reason } : null,
        },
      };
    },
  });

export const router = t.router;

/**
 * The one enforcement point every procedure passes (DESIGN.md, "Security"): deny by default.
 * A procedure must name its permission in `.meta()`; packages/policy `decideAccess` then says
 * whether the actor may use it for the declared purpose of use and, if so, which patients
 * (row filter) and which of their identity (field mask) the procedure may reach. The patient
 * repository functions of packages/db require that filter and mask, so no procedure reaches
 * patient data around this point. The decision travels on as `ctx.access`. Failures say
 * little to the client (UNAUTHORIZED / FORBIDDEN with a reason code, never data); domain
 * errors become typed tRPC errors.
 *
 * Every procedure whose meta declares `patientData`, and every other one that reports patients
 * it showed (`access.touch`: a board's initials), is audited here (packages/audit README,
 * "In the API"): one row per call, `denied` when the policy or the procedure refuses (with
 * the reason, which the client never sees), `error` when it fails (malformed input
 * included), `allowed` otherwise, flagged `break_glass` when only an override revealed a
 * patient. The response waits until the row is committed; a row that cannot be written fails
 * the call, so no patient data leaves unaudited.
 */
export const procedure = t.procedure.use(async ({ ctx, meta, next, path }) => {
  if (!meta?.permission) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.' });
  }
  if (!ctx.actor) {
    // An attempt on patient data without a credential is audited as the bad tokens are (a
    // refused session or device token already has its `auth` row): nobody, denied.
    if (meta.patientData !== undefined) {
      await ctx.audit.record({
        source: 'api',
        operation: path,
        action: meta.patientData,
        actor: { kind: 'anonymous', id: 'anonymous', roles: [], deviceId: null },
        purpose: ctx.purpose,
        resourceType: meta.resourceType ?? 'patient',
        resourceId: null,
        outcome: 'denied',
        reason: 'unauthenticated',
        requestId: ctx.requestId,
        clientAddress: ctx.clientAddress,
      });
    }
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  }

  const now = ctx.now();
  // Overrides matter only where patient data is read, and only for those who may hold one.
  const overrides =
    meta.patientData && grants(ctx.roles, ctx.actor, 'breakglass.use')
      ? await activeBreakGlass(ctx.db, ctx.actor.id, now)
      : [];
  const decision = decideAccess({
    roles: ctx.roles,
    policies: ctx.policies,
    actor: ctx.actor,
    permission: meta.permission,
    purpose: ctx.purpose,
    patientData: meta.patientData !== undefined,
    breakGlass: overrides,
    now,
  });
  const actor = ctx.actor;
  const encounters = new Set<string>();
  // A procedure that declares no patient data but still reports patients it showed (a board
  // snapshot with initials) is audited as a read of them.
  const audit = (outcome: AuditOutcome, reason: string | null, patients: ReadonlySet<string>) =>
    meta.patientData === undefined && patients.size === 0
      ? Promise.resolve()
      : ctx.audit.record({
          source: 'api',
          operation: path,
          action: meta.patientData ?? 'read',
          actor: auditActor(actor),
          purpose: ctx.purpose,
          resourceType: meta.resourceType ?? 'patient',
          resourceId: resourceOf(meta.resourceType, patients, encounters),
          patientIds: patients,
          encounterIds: encounters,
          outcome,
          reason,
          requestId: ctx.requestId,
          clientAddress: ctx.clientAddress,
        });

  if (!decision.allow) {
    await audit('denied', decision.reason, new Set());
    const cause = new MedaxisError(ErrorCode.forbidden, decision.reason, 'Not allowed.');
    throw new TRPCError({ code: 'FORBIDDEN', message: 'Not allowed.', cause });
  }

  const touched = new Set<string>();
  const breakGlassPatients = new Set<string>();
  let denial: string | null = null;
  const access: Access = {
    actor: ctx.actor,
    permission: meta.permission,
    departments: decision.departments,
    purpose: decision.auditPurpose,
    filter: decision.rowFilter,
    mask: decision.fieldMask,
    breakGlass: decision.breakGlass,
    decision,
    touched,
    breakGlassPatients,
    touch(patientIds, options) {
      for (const id of patientIds) {
        touched.add(id);
        if (options?.breakGlass) breakGlassPatients.add(id);
      }
    },
    deny(patientIds, reason) {
      for (const id of patientIds) touched.add(id);
      denial = reason;
    },
    get denial() {
      return denial;
    },
    touchEncounters(encounterIds) {
      for (const id of encounterIds) encounters.add(id);
    },
  };

  const result = await next({ ctx: { access } });

  if (result.ok) {
    await audit('allowed', breakGlassPatients.size > 0 ? 'break_glass' : null, touched);
    return result;
  }
  const cause = result.error.cause;
  const refused = denial !== null || result.error.code === 'FORBIDDEN';
  const reason =
    denial ?? (isMedaxisError(cause) ? `${cause.code}:${cause.reason}` : result.error.code);
  await audit(refused ? 'denied' : 'error', reason, touched);
  if (isMedaxisError(cause)) throw toTrpcError(cause);
  return result;
});

/** The row's resource id: the first patient (or encounter) touched, none for other kinds. */
function resourceOf(
  kind: string | undefined,
  patients: ReadonlySet<string>,
  encounters: ReadonlySet<string>,
): string | null {
  if (kind === undefined || kind === 'patient') return [...patients].sort()[0] ?? null;
  if (kind === 'encounter') return [...encounters][0] ?? null;
  return null;
}

/** Who acted, as the audit row records it: a wall display's token is its device. */
export function auditActor(actor: Actor) {
  return {
    kind: actor.kind,
    id: actor.id,
    roles: actor.roles,
    deviceId: actor.kind === 'device' ? actor.id : null,
  };
}
