import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { SessionPolicy } from '@medaxis/auth';
import { deleteExpiredSessions, type Db } from '@medaxis/db';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

import type { SecureCookies } from './cookies.ts';
import { LiveSockets } from './live-sockets.ts';
import { isCrossOrigin, isSafeMethod } from './origin.ts';
import { RequestAuth } from './request-auth.ts';
import { defaultLoginLimits, registerAuthRoutes, type LoginLimits } from './routes.ts';

export { RequestAuth } from './request-auth.ts';
export { credentialsRevokedClose } from './live-sockets.ts';
export { deviceCookie, sessionCookie, type SecureCookies } from './cookies.ts';
export { defaultLoginLimits, type LoginLimits } from './routes.ts';

export interface AuthOptions {
  sessionPolicy?: SessionPolicy;
  loginLimits?: LoginLimits;
  secureCookies?: SecureCookies;
  /** How often open websockets' sessions and device tokens are checked (default 10 s). */
  socketCheckMs?: number;
}

/**
 * Authentication for the whole server: cookies, the cross-origin check on every state-changing
 * request, the sign-in routes with their rate limits, and the resolver tRPC's createContext
 * (and the board stream) ask who a request is.
 */
export async function registerAuth(
  app: FastifyInstance,
  deps: { db: Db; log: FastifyBaseLogger },
  options: AuthOptions = {},
): Promise<RequestAuth> {
  const secureCookies = options.secureCookies ?? 'auto';
  const sockets = new LiveSockets(deps.db, deps.log, options.socketCheckMs ?? 10_000);
  const auth = new RequestAuth({
    app,
    db: deps.db,
    log: deps.log,
    sessionPolicy: options.sessionPolicy,
    secureCookies,
    sockets,
  });

  await app.register(cookie);
  // Limits are applied by the sign-in routes themselves (per address and per account), not
  // to every route. The account key space is large: keep many keys so none is evicted early.
  await app.register(rateLimit, { global: false, cache: 50_000 });

  // CSRF: SameSite=Lax keeps cookies off cross-site POSTs; this refuses the rest (same site,
  // other origin) on every route that can change something.
  app.addHook('onRequest', async (request, reply) => {
    if (isSafeMethod(request.method)) return;
    if (!isCrossOrigin(request.headers, request.host)) return;
    await auth.audit({
      action: 'cross_origin_refused',
      outcome: 'failure',
      reason: 'origin',
      address: request.ip,
      requestId: String(request.id),
    });
    return reply.code(403).send({
      error: {
        message: 'Not allowed.',
        medaxis: { code: 'FORBIDDEN', reason: 'cross_origin' },
      },
    });
  });

  registerAuthRoutes(app, {
    db: deps.db,
    auth,
    secureCookies,
    limits: options.loginLimits ?? defaultLoginLimits,
  });

  app.addHook('onReady', () => {
    sockets.start();
    return Promise.resolve();
  });
  app.addHook('onClose', async () => {
    await sockets.stop();
  });
  // Expired sessions are refused on sight; this keeps the table from growing with the ones
  // nobody presents again. Hourly, on every instance: the DELETE is idempotent.
  const sweep = setInterval(() => {
    deleteExpiredSessions(deps.db, new Date()).catch((error: unknown) =>
      deps.log.warn({ err: error }, 'deleting expired sessions failed'),
    );
  }, 3_600_000);
  sweep.unref();
  app.addHook('onClose', () => {
    clearInterval(sweep);
    return Promise.resolve();
  });

  return auth;
}
