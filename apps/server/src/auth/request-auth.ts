import type { IncomingMessage } from 'node:http';

import {
  auditAuthEvent,
  defaultSessionPolicy,
  resolveActor,
  type AuthAuditEvent,
  type Credentials,
  type Resolution,
  type SessionPolicy,
} from '@medaxis/auth';
import type { Db } from '@medaxis/db';
import type { Actor } from '@medaxis/policy';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';

import { cookieOptions, deviceCookie, sessionCookie, type SecureCookies } from './cookies.ts';
import type { LiveSockets } from './live-sockets.ts';
import { isCrossOrigin } from './origin.ts';

export interface RequestAuthDeps {
  app: FastifyInstance;
  db: Db;
  log: FastifyBaseLogger;
  sessionPolicy?: SessionPolicy | undefined;
  secureCookies: SecureCookies;
  sockets: LiveSockets;
}

/** Who a request acts as, and the details behind it (the session, for sign-out and refresh). */
export type RequestIdentity = Resolution & { crossOrigin: boolean };

/**
 * Resolves the actor of every API request and websocket from its credentials: the session
 * cookie, else a device token (cookie, or `Authorization: Bearer` for a display that is not a
 * browser). Refused credentials are audited with their reason and answered only with "no
 * actor": the enforcement point (packages/api trpc.ts) then says UNAUTHORIZED.
 */
export class RequestAuth {
  readonly policy: SessionPolicy;

  constructor(private readonly deps: RequestAuthDeps) {
    this.policy = deps.sessionPolicy ?? defaultSessionPolicy;
  }

  /**
   * tRPC's createContext: over HTTP `req`/`res` are Fastify's request and reply; over the
   * websocket they are the upgrade request and the socket itself.
   */
  async actorForContext(
    req: FastifyRequest | IncomingMessage,
    res: FastifyReply | WebSocket,
  ): Promise<Actor | null> {
    if ('raw' in req) {
      const identity = await this.identify(req, res as FastifyReply);
      return identity.actor;
    }
    return this.actorForSocket(req, res as WebSocket);
  }

  /**
   * The actor of a websocket, from its upgrade request. A handshake from another origin gets
   * none (browsers send cookies with cross-origin websockets). The socket is watched so it
   * closes when its session or device token ends.
   */
  async actorForSocket(request: IncomingMessage, socket: WebSocket): Promise<Actor | null> {
    const identity = await this.identifyRaw(request, {
      address: request.socket.remoteAddress ?? null,
      requestId: undefined,
    });
    if (identity.session)
      this.deps.sockets.track(socket, { kind: 'session', id: identity.session.id });
    else if (identity.device)
      this.deps.sockets.track(socket, { kind: 'device', id: identity.device.id });
    return identity.actor;
  }

  /** An HTTP request's identity; refreshes a slid session's cookie and drops refused ones. */
  async identify(request: FastifyRequest, reply?: FastifyReply): Promise<RequestIdentity> {
    const identity = await this.identifyRaw(request.raw, {
      address: request.ip,
      requestId: String(request.id),
      host: request.host,
    });
    if (!reply) return identity;

    const now = new Date();
    if (identity.session?.refreshed) {
      reply.setCookie(
        sessionCookie,
        request.cookies[sessionCookie]!,
        cookieOptions(this.deps.secureCookies, identity.session.expiresAt, now),
      );
    }
    // A refused cookie is cleared, so the browser stops presenting it (and filling the audit).
    for (const refusal of identity.refusals) {
      const name = refusal.credential === 'session' ? sessionCookie : deviceCookie;
      if (request.cookies[name] !== undefined) {
        reply.clearCookie(name, cookieOptions(this.deps.secureCookies, null, now));
      }
    }
    return identity;
  }

  async identifyRaw(
    request: IncomingMessage,
    where: { address: string | null; requestId: string | undefined; host?: string | undefined },
  ): Promise<RequestIdentity> {
    const audit = (event: Omit<AuthAuditEvent, 'address' | 'requestId'>) =>
      this.audit({ ...event, address: where.address, requestId: where.requestId });

    if (isCrossOrigin(request.headers, where.host ?? request.headers.host)) {
      await audit({ action: 'cross_origin_refused', outcome: 'failure', reason: 'origin' });
      return { actor: null, refusals: [], crossOrigin: true };
    }

    const credentials = this.credentialsOf(request);
    const resolution = await resolveActor(this.deps.db, credentials, new Date(), this.policy);
    for (const refusal of resolution.refusals) {
      await audit({
        action: refusal.credential === 'session' ? 'session_refused' : 'device_token_refused',
        outcome: 'failure',
        reason: refusal.reason,
        ...(refusal.credential === 'device' && refusal.deviceId
          ? { target: refusal.deviceId }
          : {}),
      });
    }
    return { ...resolution, crossOrigin: false };
  }

  credentialsOf(request: IncomingMessage): Credentials {
    const header = request.headers.cookie;
    const cookies = header ? this.deps.app.parseCookie(header) : {};
    const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    return {
      sessionToken: cookies[sessionCookie],
      deviceToken: bearer ?? cookies[deviceCookie],
    };
  }

  audit(event: AuthAuditEvent): Promise<void> {
    return auditAuthEvent(this.deps.db, event, this.deps.log);
  }
}
