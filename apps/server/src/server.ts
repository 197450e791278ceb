import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { appRouter, type AppRouter, type AuditSink, type Context } from '@medaxis/api';
import { auditWriterFor } from '@medaxis/audit';
import type { Db } from '@medaxis/db';
import type { ConsentPolicies, Roles } from '@medaxis/policy';
import websocket from '@fastify/websocket';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { WebSocket } from 'ws';

import { registerAuth, type AuthOptions, type RequestAuth } from './auth/index.ts';
import { registerBoardStream, type BoardStream, type BoardStreamOptions } from './board-stream.ts';
import { EventHub } from './event-hub.ts';
import { registerFhirRoutes } from './fhir-routes.ts';
import { purposeOfUse } from './purpose.ts';

export interface ServerOptions {
  db: Db;
  /** Where audit rows go; the process's AuditWriter for `db` by default. */
  audit?: AuditSink;
  /** config/roles.json, loaded and checked before the server starts. */
  roles: Roles;
  /** config/consent_policies.json, loaded and checked with the roles before the server starts. */
  policies: ConsentPolicies;
  databaseUrl: string;
  log: FastifyBaseLogger;
  webBuildDir?: string | undefined;
  /** Sessions, sign-in limits, cookies; the defaults suit production. */
  auth?: AuthOptions;
  /** Fastify's trustProxy (env TRUST_PROXY): off unless a proxy sets X-Forwarded-*. */
  trustProxy?: boolean | string;
  /** Bounds of the wall displays' board stream; defaults suit production. */
  boardStream?: BoardStreamOptions;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * The HTTP and websocket face of MedAxis: tRPC on /trpc (queries, mutations, subscriptions),
 * health probes, and the web app on every other path.
 */
export async function buildServer(options: ServerOptions): Promise<{
  app: FastifyInstance;
  auth: RequestAuth;
  hub: EventHub;
  boardStream: BoardStream;
}> {
  const { db, log } = options;
  const audit = options.audit ?? auditWriterFor(db);
  const hub = new EventHub(db, options.databaseUrl, log.child({ part: 'event-hub' }));
  const app = Fastify({
    loggerInstance: log,
    genReqId: () => randomUUID(),
    // Behind a proxy (TRUST_PROXY): client address and protocol from X-Forwarded-*.
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 5000 },
    // tRPC query inputs travel in the URL: request lines are not logged, so no search term
    // (an MRN, a name) can reach the log that way.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Before any route: cookies, the cross-origin check and the sign-in routes (auth/index.ts).
  const authLog = log.child({ part: 'auth' });
  const auth = await registerAuth(app, { db, log: authLog }, options.auth);
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  /** The context of every API call, over tRPC (HTTP, websocket) and the FHIR routes. */
  const contextFor = async (
    req: FastifyRequest | IncomingMessage,
    res: FastifyReply | WebSocket,
    connectionParams: Record<string, string> | null,
  ): Promise<Context> => ({
    db,
    audit,
    feed: hub,
    requestId: String('id' in req ? req.id : randomUUID()),
    now: () => new Date(),
    roles: options.roles,
    policies: options.policies,
    // The session cookie, else a device token, else null: the enforcement point then
    // answers UNAUTHORIZED. Over the websocket, `req` is the upgrade request and `res`
    // the socket, which closes when its session or device token ends.
    actor: await auth.actorForContext(req, res),
    log: 'raw' in req ? req.log : authLog,
    purpose: purposeOfUse(req.headers, connectionParams),
    clientAddress: 'ip' in req ? req.ip : (req.socket.remoteAddress ?? null),
  });
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    useWSS: true,
    keepAlive: { enabled: true, pingMs: 20_000, pongWaitMs: 5_000 },
    trpcOptions: {
      router: appRouter,
      createContext: ({ req, res, info }) =>
        contextFor(req, res, info.connectionParams as Record<string, string> | null),
      onError: ({ error, path, type }) => {
        // Client mistakes are answered, not logged as failures; anything else is ours.
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          log.error({ err: error.cause ?? error, path, type }, 'procedure failed');
        }
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  } as FastifyTRPCPluginOptions<AppRouter>);

  // FHIR R4 reads: the same procedures, through the same enforcement point (fhir-routes.ts).
  registerFhirRoutes(app, {
    context: (request, reply) => contextFor(request, reply, null),
    log: log.child({ part: 'fhir' }),
  });

  // Wall displays: the same feed as board.events, encoded once per view (board-stream.ts).
  const boardStream = registerBoardStream(
    app,
    {
      db,
      audit,
      feed: hub,
      roles: options.roles,
      policies: options.policies,
      log: log.child({ part: 'board-stream' }),
      auth,
    },
    options.boardStream,
  );

  // An oversized body is refused (413) before any procedure runs, so the enforcement point
  // never sees it: the attempt is audited here, before the answer leaves.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 413) return payload;
    const actor = (await auth.identify(request).catch(() => null))?.actor ?? null;
    await audit.record({
      source: 'api',
      operation: request.url.split('?')[0]!.slice(0, 200),
      action: 'write',
      actor: actor
        ? { kind: actor.kind, id: actor.id, roles: actor.roles }
        : { kind: 'anonymous', id: 'anonymous' },
      purpose: 'operations',
      resourceType: 'request',
      outcome: 'error',
      reason: 'PAYLOAD_TOO_LARGE',
      requestId: String(request.id),
      clientAddress: request.ip,
    });
    return payload;
  });

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const database = await db.query('SELECT 1').then(
      () => true,
      () => false,
    );
    const ready = database && hub.listening;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      database,
      eventListener: hub.listening,
      subscribers: hub.subscriberCount,
      boardStreams: boardStream.socketCount,
    });
  });

  const web = await loadWebHandler(options.webBuildDir);
  if (web) {
    app.setNotFoundHandler((request, reply) => {
      reply.hijack();
      web(request.raw, reply.raw, () => {
        reply.raw.statusCode = 404;
        reply.raw.end('Not found');
      });
    });
  }

  app.addHook('onReady', async () => {
    await hub.start();
  });
  app.addHook('onClose', async () => {
    await hub.stop();
  });
  return { app, auth, hub, boardStream };
}

async function loadWebHandler(buildDir: string | undefined): Promise<NodeHandler | undefined> {
  if (!buildDir) return undefined;
  const file = join(buildDir, 'handler.js');
  if (!existsSync(file)) return undefined;
  const module = (await import(pathToFileURL(file).href)) as { handler: NodeHandler };
  return module.handler;
}
