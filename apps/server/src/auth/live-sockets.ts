import { findValidCredentials, type Db } from '@medaxis/db';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';

/** Close code for a socket whose session or device token no longer holds (4xxx: ours). */
export const credentialsRevokedClose = 4401;

export interface SocketCredential {
  kind: 'session' | 'device';
  id: string;
}

/**
 * The websockets of this instance and the credential each opened with. A websocket is
 * authenticated once, at its upgrade; without this, a board would keep streaming after sign-out,
 * a password change, a user's deactivation, a device token's revocation or expiry. Every
 * `intervalMs` one query checks all their credentials and closes the sockets whose credential
 * is gone; their clients reconnect and are then refused. Revocation reaches open sockets on
 * every instance within one interval, since each instance checks the database itself.
 */
export class LiveSockets {
  readonly #sockets = new Map<WebSocket, SocketCredential>();
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {}

  track(socket: WebSocket, credential: SocketCredential): void {
    this.#sockets.set(socket, credential);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  get size(): number {
    return this.#sockets.size;
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), this.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#checking;
  }

  /** Closes every tracked socket whose credential no longer holds; returns how many. */
  async check(now = new Date()): Promise<number> {
    if (this.#checking) return 0;
    let closed = 0;
    this.#checking = (async () => {
      const sessions = new Set<string>();
      const devices = new Set<string>();
      for (const { kind, id } of this.#sockets.values()) {
        (kind === 'session' ? sessions : devices).add(id);
      }
      if (sessions.size + devices.size === 0) return;

      const valid = await findValidCredentials(
        this.db,
        { sessions: [...sessions], devices: [...devices] },
        now,
      );
      for (const [socket, { kind, id }] of this.#sockets) {
        if ((kind === 'session' ? valid.sessions : valid.devices).has(id)) continue;
        this.#sockets.delete(socket);
        socket.close(credentialsRevokedClose, 'credentials no longer valid');
        closed += 1;
      }
      if (closed > 0) this.log.info({ closed }, 'closed sockets of ended sessions or devices');
    })()
      .catch((error: unknown) =>
        this.log.warn({ err: error }, 'checking socket credentials failed'),
      )
      .finally(() => {
        this.#checking = undefined;
      });
    await this.#checking;
    return closed;
  }
}
