import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { appRouter, type AppRouter, type Context } from '@medaxis/api';
import type { Db } from '@medaxis/db';
import { systemActor, type Roles } from '@medaxis/policy';
import websocket from '@fastify/websocket';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import { registerBoardStream, type BoardStream, type BoardStreamOptions } from './board-stream.ts';
import { EventHub } from './event-hub.ts';

export interface ServerOptions {
  db: Db;
  /** config/roles.json, loaded and checked before the server starts. */
  roles: Roles;
  databaseUrl: string;
  log: FastifyBaseLogger;
  webBuildDir?: string | undefined;
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
  hub: EventHub;
  boardStream: BoardStream;
}> {
  const { db, log } = options;
  const hub = new EventHub(db, options.databaseUrl, log.child({ part: 'event-hub' }));
  const app = Fastify({
    loggerInstance: log,
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 5000 },
    // tRPC query inputs travel in the URL: request lines are not logged, so no search term
    // (an MRN, a name) can reach the log that way.
    logController: new LogController({ disableRequestLogging: true }),
  });

  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    useWSS: true,
    keepAlive: { enabled: true, pingMs: 20_000, pongWaitMs: 5_000 },
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }): Context => ({
        db,
        feed: hub,
        requestId: String(req.id),
        now: () => new Date(),
        roles: options.roles,
        // SHORTCUT(auth): until sessions and device tokens land (security issue), every
        // request acts as the system actor; the enforcement point in packages/api already
        // checks its permissions. The server binds to 127.0.0.1 by default until then.
        actor: systemActor,
        purpose: 'treatment',
        clientAddress: req.ip,
      }),
      onError: ({ error, path, type }) => {
        // Client mistakes are answered, not logged as failures; anything else is ours.
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          log.error({ err: error.cause ?? error, path, type }, 'procedure failed');
        }
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  } as FastifyTRPCPluginOptions<AppRouter>);

  // Wall displays: the same feed as board.events, encoded once per view (board-stream.ts).
  const boardStream = registerBoardStream(
    app,
    { db, feed: hub, roles: options.roles, log: log.child({ part: 'board-stream' }) },
    options.boardStream,
  );

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
  return { app, hub, boardStream };
}

async function loadWebHandler(buildDir: string | undefined): Promise<NodeHandler | undefined> {
  if (!buildDir) return undefined;
  const file = join(buildDir, 'handler.js');
  if (!existsSync(file)) return undefined;
  const module = (await import(pathToFileURL(file).href)) as { handler: NodeHandler };
  return module.handler;
}
