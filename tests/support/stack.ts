import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import type { AppRouter, AuditSink } from '@medaxis/api';
import { addUser, createSession, issueDeviceToken } from '@medaxis/auth';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { loadPolicyConfig, loadRoles } from '@medaxis/policy';
import type { AuthOptions } from '@medaxis/server';
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

/**
 * Who a test client acts as: a user signed in with a role (and departments, for roles scoped
 * to assigned ones), a wall display bound to a board (a department code, or null for the
 * hospital), or nobody.
 */
export type ConnectAs =
  { role: string; departments?: string[] } | { device: string | null } | { anonymous: true };

export interface TestCredentials {
  /** The Cookie header the client sends ('' for nobody). */
  cookie: string;
  username?: string;
  password?: string;
  userId?: string;
  deviceToken?: string;
}

export interface Connection {
  api: Api;
  close(): Promise<void>;
  /** Resolves once the user (and session) or the device token exists. */
  credentials: Promise<TestCredentials>;
}

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
  /**
   * A client acting as `as` (default: a signed-in bed manager) over HTTP for queries and
   * mutations and over websocket for subscriptions, both carrying its cookie.
   */
  connect(as?: ConnectAs, options?: { purpose?: string }): Connection;
  /** A device token for a wall display of `board` (null: the hospital). */
  deviceToken(board?: string | null): Promise<string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Reuse a database (for several instances on one database); a new one by default. */
  database?: TestDatabase;
  /** Serve the built web app (apps/web/build) too. */
  web?: boolean;
  /** Session policy, sign-in limits, socket checks (tests shorten them). */
  auth?: AuthOptions;
  /** Bounds of the board stream, e.g. a small buffer to test a slow display quickly. */
  boardStream?: BoardStreamOptions;
  /** Where audit rows go; the server's own AuditWriter for the database by default. */
  audit?: AuditSink;
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
    policies: loadPolicyConfig(join(repoRoot, 'config')).policies,
    databaseUrl: database.url,
    log,
    webBuildDir: options.web ? join(repoRoot, 'apps/web/build') : undefined,
    auth: options.auth,
    boardStream: options.boardStream,
    audit: options.audit,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const clients = new Set<() => Promise<void>>();
  const roles = loadRoles(join(repoRoot, 'config/roles.json'));

  const deviceToken = async (board: string | null = null) => {
    const label = `test display ${board ?? 'hospital'}`;
    const issued = await issueDeviceToken(
      database.db,
      { label, board, issuedBy: null },
      new Date(),
    );
    return issued.token;
  };

  /** Creates the user and session (or device token) a test client presents. */
  async function credentialsFor(as: ConnectAs): Promise<TestCredentials> {
    if ('anonymous' in as) return { cookie: '' };
    if ('device' in as) {
      const token = await deviceToken(as.device);
      return { cookie: `medaxis_device=${token}`, deviceToken: token };
    }
    // Unique across stacks sharing one database (two instances in one test).
    const username = `${as.role.replace(/_/g, '-')}-${randomBytes(4).toString('hex')}`;
    const password = `test password ${username}`;
    const user = await addUser(database.db, roles, {
      username,
      password,
      roles: [as.role],
      departments: as.departments,
    });
    const { token } = await createSession(
      database.db,
      user.id,
      { address: '127.0.0.1', userAgent: 'test' },
      new Date(),
    );
    return { cookie: `medaxis_session=${token}`, username, password, userId: user.id };
  }

  return {
    baseUrl,
    database,
    app,
    hub,
    boardStream,
    logs,
    deviceToken,
    connect(as: ConnectAs = { role: 'bed_manager' }, options: { purpose?: string } = {}) {
      const credentials = credentialsFor(as);
      let cookie = '';
      const ready = credentials.then((created) => {
        cookie = created.cookie;
      });
      // A browser sends its cookies with the websocket upgrade; ws takes them as a header.
      class CookieWebSocket extends WebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols, cookie ? { headers: { cookie } } : {});
        }
      }
      const wsClient = createWSClient({
        url: async () => {
          await ready;
          return `${baseUrl.replace('http', 'ws')}/trpc`;
        },
        WebSocket: CookieWebSocket as unknown as typeof globalThis.WebSocket,
        retryDelayMs: () => 200,
      });
      const api = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === 'subscription',
            true: wsLink({ client: wsClient }),
            false: httpBatchLink({
              url: `${baseUrl}/trpc`,
              headers: async () => {
                await ready;
                // The purpose of use a client declares (x-purpose-of-use); treatment if none.
                const purpose = options.purpose ? { 'x-purpose-of-use': options.purpose } : {};
                return cookie ? { cookie, ...purpose } : purpose;
              },
            }),
          }),
        ],
      });
      const close = async () => {
        clients.delete(close);
        await wsClient.close();
      };
      clients.add(close);
      return { api, close, credentials };
    },
    async stop() {
      for (const close of [...clients]) await close();
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
