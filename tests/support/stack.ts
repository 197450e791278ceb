import { join } from 'node:path';
import { Writable } from 'node:stream';

import type { AppRouter } from '@medaxis/api';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { loadRoles } from '@medaxis/policy';
import {
  buildServer,
  createLogger,
  type BoardStream,
  type BoardStreamOptions,
  type EventHub,
} from '@medaxis/server';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';

export type Api = TRPCClient<AppRouter>;

export interface Stack {
  baseUrl: string;
  database: TestDatabase;
  app: FastifyInstance;
  hub: EventHub;
  /** The wall displays' feed at /board-stream. */
  boardStream: BoardStream;
  /** Everything the server logged, one JSON line per entry. */
  logs: string[];
  /** A client over HTTP for queries and mutations and over websocket for subscriptions. */
  connect(): { api: Api; close(): Promise<void> };
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Reuse a database (for several instances on one database); a new one by default. */
  database?: TestDatabase;
  /** Serve the built web app (apps/web/build) too. */
  web?: boolean;
  /** Bounds of the board stream, e.g. a small buffer to test a slow display quickly. */
  boardStream?: BoardStreamOptions;
}

/** A real server on a random port over a real, migrated test database. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = options.database ?? (await createTestDatabase('stack'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('info', sink);
  const { app, hub, boardStream } = await buildServer({
    db: database.db,
    roles: loadRoles(join(repoRoot, 'config/roles.json')),
    databaseUrl: database.url,
    log,
    webBuildDir: options.web ? join(repoRoot, 'apps/web/build') : undefined,
    boardStream: options.boardStream,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const clients = new Set<() => Promise<void>>();

  return {
    baseUrl,
    database,
    app,
    hub,
    boardStream,
    logs,
    connect() {
      const wsClient = createWSClient({
        url: `${baseUrl.replace('http', 'ws')}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        retryDelayMs: () => 200,
      });
      const api = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === 'subscription',
            true: wsLink({ client: wsClient }),
            false: httpBatchLink({ url: `${baseUrl}/trpc` }),
          }),
        ],
      });
      const close = async () => {
        clients.delete(close);
        await wsClient.close();
      };
      clients.add(close);
      return { api, close };
    },
    async stop() {
      for (const close of [...clients]) await close();
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
