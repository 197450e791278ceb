import {
  changePassword,
  invalidateSession,
  signIn,
  validateDeviceToken,
  normalizeUsername,
} from '@medaxis/auth';
import { getSite, type Db } from '@medaxis/db';
import { ErrorCode, MedaxisError, isMedaxisError } from '@medaxis/domain';
import { trpcCodeFor } from '@medaxis/api';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { cookieOptions, deviceCookie, sessionCookie, type SecureCookies } from './cookies.ts';
import type { RequestAuth } from './request-auth.ts';

export interface LoginLimits {
  /** Sign-in attempts from one address (a ward's shared NAT: generous). */
  perAddress: { max: number; windowMs: number };
  /** Sign-in attempts for one username, from anywhere: slows guessing one password. */
  perAccount: { max: number; windowMs: number };
}

export const defaultLoginLimits: LoginLimits = {
  perAddress: { max: 100, windowMs: 15 * 60_000 },
  perAccount: { max: 10, windowMs: 15 * 60_000 },
};

const loginBody = z
  .object({ username: z.string().min(1).max(100), password: z.string().min(1).max(1024) })
  .strict();
const deviceBody = z.object({ token: z.string().max(200) }).strict();
const passwordBody = z
  .object({ current: z.string().min(1).max(1024), next: z.string().min(1).max(1024) })
  .strict();

interface RoutesDeps {
  db: Db;
  auth: RequestAuth;
  secureCookies: SecureCookies;
  limits: LoginLimits;
}

/**
 * Sign-in, sign-out, who-am-I, device setup and password change, as plain HTTP routes beside
 * tRPC: they exist for callers that have no actor yet, which the enforcement point (deny by
 * default) rightly refuses. Answers follow the API's error shape: `error.medaxis.{code,reason}`
 * with the status from the one table (packages/api errors.ts).
 */
export function registerAuthRoutes(app: FastifyInstance, deps: RoutesDeps): void {
  const { db, auth, secureCookies } = deps;
  const cookie = (expiresAt: Date | null) => cookieOptions(secureCookies, expiresAt, new Date());
  const keyedLimit = (
    limit: { max: number; windowMs: number },
    key: (r: FastifyRequest) => string,
  ) => app.createRateLimit({ max: limit.max, timeWindow: limit.windowMs, keyGenerator: key });
  const byAddress = keyedLimit(deps.limits.perAddress, (request) => `address:${request.ip}`);
  const byAccount = keyedLimit(
    deps.limits.perAccount,
    (request) => `account:${accountKey(request.body)}`,
  );

  /** Counts an attempt against both limits; answers 429 and returns false when over either. */
  async function withinLimits(request: FastifyRequest, reply: FastifyReply, username?: string) {
    const checks = [await byAddress(request)];
    if (username !== undefined) checks.push(await byAccount(request));
    const over = checks.filter((check) => !check.isAllowed && check.isExceeded);
    if (over.length === 0) return true;

    const retryAfter = Math.max(
      ...over.map((check) => ('ttlInSeconds' in check ? check.ttlInSeconds : 0)),
    );
    await auth.audit({
      action: 'login_rate_limited',
      outcome: 'failure',
      reason: over.map((check) => check.key.split(':')[0]).join(','),
      username,
      address: request.ip,
      requestId: String(request.id),
    });
    await reply
      .code(429)
      .header('retry-after', String(retryAfter))
      .send({
        error: {
          message: `Too many sign-in attempts. Try again in ${retryAfter} s.`,
          retryAfterSeconds: retryAfter,
        },
      });
    return false;
  }

  app.post('/auth/login', async (request, reply) => {
    const body = loginBody.safeParse(parseJson(request.body));
    if (!(await withinLimits(request, reply, body.success ? body.data.username : ''))) return;
    if (!body.success) return sendError(reply, badRequest());
    const username = normalizeUsername(body.data.username);

    const result = await signIn(
      db,
      body.data,
      { address: request.ip, userAgent: request.headers['user-agent'] ?? null },
      new Date(),
      auth.policy,
    );
    await auth.audit({
      action: 'login',
      outcome: result.ok ? 'success' : 'failure',
      reason: result.ok ? undefined : result.reason,
      actor: result.user ? { kind: 'user', id: result.user.id } : null,
      username,
      address: request.ip,
      requestId: String(request.id),
    });
    if (!result.ok) {
      // One answer for unknown user, wrong password and disabled user: the log says which.
      return sendError(
        reply,
        new MedaxisError(
          ErrorCode.unauthorized,
          'invalid_credentials',
          'Wrong username or password.',
        ),
      );
    }

    reply.setCookie(sessionCookie, result.token, cookie(result.session.expiresAt));
    return {
      user: {
        username: result.user.username,
        displayName: result.user.displayName,
        roles: result.user.roles,
      },
      expiresAt: result.session.expiresAt.toISOString(),
    };
  });

  app.post('/auth/logout', async (request, reply) => {
    const identity = await auth.identify(request);
    if (identity.session && identity.actor?.kind === 'user') {
      await invalidateSession(db, identity.session.id);
      await auth.audit({
        action: 'logout',
        outcome: 'success',
        actor: { kind: 'user', id: identity.actor.id },
        address: request.ip,
        requestId: String(request.id),
      });
    }
    // Sign-out forgets this browser entirely, a display's device token too.
    reply.clearCookie(sessionCookie, cookie(null));
    reply.clearCookie(deviceCookie, cookie(null));
    return reply.code(204).send();
  });

  app.get('/auth/session', async (request, reply) => {
    const identity = await auth.identify(request, reply);
    const actor = identity.actor;
    if (!actor) return sendError(reply, signInFirst());
    if (actor.kind === 'device') {
      return { kind: 'device', label: identity.device?.label ?? '', board: actor.board };
    }
    if (actor.kind !== 'user') return sendError(reply, signInFirst());
    // Staff read times in the hospital's zone on every page, the board's or not; a site's zone
    // is no patient data, so any signed-in person may have it (the board snapshot audits).
    const site = await getSite(db);
    return {
      kind: 'user',
      username: actor.username,
      roles: actor.roles,
      departments: actor.departments,
      expiresAt: identity.session?.expiresAt.toISOString() ?? null,
      siteTimeZone: site?.timeZone ?? null,
    };
  });

  app.post('/auth/device', async (request, reply) => {
    if (!(await withinLimits(request, reply))) return;
    const body = deviceBody.safeParse(parseJson(request.body));
    if (!body.success) return sendError(reply, badRequest());

    const result = await validateDeviceToken(db, body.data.token, new Date());
    await auth.audit({
      action: 'device_setup',
      outcome: result.ok ? 'success' : 'failure',
      reason: result.ok ? undefined : result.reason,
      actor: result.device ? { kind: 'device', id: result.device.id } : null,
      address: request.ip,
      requestId: String(request.id),
    });
    if (!result.ok) {
      return sendError(
        reply,
        new MedaxisError(
          ErrorCode.unauthorized,
          'invalid_device_token',
          'This display link is not valid (any more). Ask an administrator for a new one.',
        ),
      );
    }

    reply.setCookie(deviceCookie, body.data.token, cookie(result.device.expiresAt));
    return { kind: 'device', label: result.device.label, board: result.device.board };
  });

  app.post('/auth/password', async (request, reply) => {
    const identity = await auth.identify(request);
    const actor = identity.actor;
    if (actor?.kind !== 'user' || !identity.session) return sendError(reply, signInFirst());
    if (!(await withinLimits(request, reply, actor.username))) return;
    const body = passwordBody.safeParse(parseJson(request.body));
    if (!body.success) return sendError(reply, badRequest());

    try {
      const changed = await changePassword(
        db,
        actor.id,
        body.data,
        { address: request.ip, userAgent: request.headers['user-agent'] ?? null },
        new Date(),
        auth.policy,
      );
      await auth.audit({
        action: 'password_changed',
        outcome: 'success',
        actor: { kind: 'user', id: actor.id },
        reason: `${changed.sessionsEnded} sessions ended`,
        address: request.ip,
        requestId: String(request.id),
      });
      reply.setCookie(sessionCookie, changed.token, cookie(changed.session.expiresAt));
      return reply.code(204).send();
    } catch (error) {
      if (!isMedaxisError(error)) throw error;
      await auth.audit({
        action: 'password_changed',
        outcome: 'failure',
        reason: error.reason,
        actor: { kind: 'user', id: actor.id },
        address: request.ip,
        requestId: String(request.id),
      });
      return sendError(reply, error);
    }
  });
}

/** Sign-in bodies arrive as text where tRPC's JSON parser is installed; objects elsewhere. */
function parseJson(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function accountKey(body: unknown): string {
  const parsed = parseJson(body);
  const username =
    typeof parsed === 'object' && parsed !== null && 'username' in parsed
      ? parsed.username
      : undefined;
  return typeof username === 'string' ? normalizeUsername(username).slice(0, 100) : '';
}

function badRequest() {
  return new MedaxisError(ErrorCode.validation, 'invalid_body', 'Malformed request.');
}

function signInFirst() {
  return new MedaxisError(ErrorCode.unauthorized, 'no_session', 'Sign in first.');
}

/** The API's error shape, the status from the one table of codes. */
function sendError(reply: FastifyReply, error: MedaxisError) {
  const status = getHTTPStatusCodeFromError(new TRPCError({ code: trpcCodeFor[error.code] }));
  return reply.code(status).send({
    error: { message: error.message, medaxis: { code: error.code, reason: error.reason } },
  });
}
