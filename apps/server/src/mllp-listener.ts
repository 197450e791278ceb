import { createServer, type Server, type Socket } from 'node:net';

import { listHl7MessageIds, type Db } from '@medaxis/db';
import {
  encodeMllpFrame,
  Hl7Processor,
  MllpDecoder,
  MllpFrameTooLarge,
  type Hl7ProcessorOptions,
  type ProcessedMessage,
} from '@medaxis/interop';
import type { Logger } from 'pino';

export interface MllpListenerOptions {
  db: Db;
  /** 0 picks a free port (tests); main.ts does not start the listener for MLLP_PORT=0. */
  port: number;
  host: string;
  log: Logger;
  /** A frame larger than this closes the connection (a sender that never ends a frame). */
  maxFrameBytes?: number;
  /** How often rows left `received` by a crash are processed (0: never). */
  recoveryIntervalMs?: number;
  processor?: Hl7ProcessorOptions;
}

export interface MllpListener {
  port: number;
  processor: Hl7Processor;
  /** Processes messages a crash left `received` (stored, never answered). */
  recover(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The MLLP listener: HL7 v2 over TCP. Per connection, frames are handled strictly in order:
 * the frames that arrived together are stored raw (one commit), then applied together (one
 * transaction, see Hl7Processor) and answered in order. A frame is acknowledged only after its
 * raw bytes and its outcome are committed (and it is audited), so a connection dropped at any
 * point loses nothing that was acknowledged; complete frames that arrived before a drop are
 * still stored and processed (the sender's resend is then a duplicate, answered AA and not
 * applied twice).
 *
 * Why not @medplum/hl7's Hl7Server: it parses each frame before handing it over (so the raw
 * bytes are gone, and a frame that fails to parse is dropped unanswered with the rest of its
 * chunk), and it retries a port in use forever instead of failing. Its parser is used.
 */
export async function startMllpListener(options: MllpListenerOptions): Promise<MllpListener> {
  const { db, log } = options;
  const processor = new Hl7Processor(db, options.processor);
  const connections = new Set<Connection>();
  let sequence = 0;

  const server: Server = createServer((socket) => {
    const connection = new Connection(socket, `${++sequence}`, processor, {
      log,
      maxFrameBytes: options.maxFrameBytes ?? 16 * 1024 * 1024,
    });
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  });
  server.on('error', (error) => log.error({ err: error }, 'mllp listener failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  const recover = async () => {
    // Rows younger than this may still be in flight on a connection.
    const ids = await listHl7MessageIds(db, 'received', {
      receivedBefore: new Date(Date.now() - 30_000),
      limit: 500,
    });
    for (const id of ids) {
      const processed = await processor.reprocess(id).catch((error: unknown) => {
        log.error({ err: error, messageId: id }, 'hl7 recovery failed');
        return undefined;
      });
      if (processed) logOutcome(log, processed, 'recovery');
    }
    return ids.length;
  };
  const intervalMs = options.recoveryIntervalMs ?? 60_000;
  const sweep =
    intervalMs > 0
      ? setInterval(() => void recover().catch(() => {}), intervalMs).unref()
      : undefined;

  return {
    port,
    processor,
    recover,
    close: async () => {
      clearInterval(sweep);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Frames already received are processed and answered before their socket closes.
      await Promise.all([...connections].map((connection) => connection.drainAndClose()));
      await stopped;
    },
  };
}

class Connection {
  private readonly decoder: MllpDecoder;
  private readonly queue: Buffer[] = [];
  private working: Promise<void> | undefined;
  readonly peer: string;
  readonly closed: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly socket: Socket,
    id: string,
    private readonly processor: Hl7Processor,
    options: { log: Logger; maxFrameBytes: number },
  ) {
    this.peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.log = options.log.child({ connectionId: id, peer: this.peer });
    this.decoder = new MllpDecoder(options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.log.info('mllp connection opened');

    socket.on('data', (chunk: Buffer) => {
      try {
        this.queue.push(...this.decoder.push(chunk));
      } catch (error) {
        if (!(error instanceof MllpFrameTooLarge)) throw error;
        this.log.warn({ limit: options.maxFrameBytes }, 'mllp frame too large: closing');
        socket.destroy();
        return;
      }
      this.pump();
    });
    socket.on('error', (error) => this.log.warn({ err: error }, 'mllp connection error'));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        const cutOff = this.decoder.pendingBytes;
        if (cutOff > 0) {
          // Never acknowledged, so the sender still has it; nothing to store.
          this.log.warn({ bytes: cutOff }, 'mllp connection closed mid-message');
        }
        this.log.info('mllp connection closed');
        void (this.working ?? Promise.resolve()).then(() => resolve());
      });
    });
  }

  /** Processes what is queued, in order; frames that arrive meanwhile join the next round. */
  private pump() {
    if (this.working) return;
    this.working = (async () => {
      while (this.queue.length > 0) {
        const frames = this.queue.splice(0);
        try {
          // Each ACK leaves as soon as its frame is done, in order, not after the whole round.
          await this.processor.receive(frames, this.peer, (result) => {
            for (const message of result.messages) logOutcome(this.log, message, 'mllp');
            if (this.socket.writable) {
              this.socket.write(encodeMllpFrame(Buffer.from(result.ack, 'utf8')));
            }
          });
        } catch (error) {
          // Not stored, or stored but not audited: not answered. Drop the connection; the
          // sender resends (an applied message is then acknowledged as a duplicate).
          this.log.error({ err: error, frames: frames.length }, 'hl7 message not answered');
          this.queue.length = 0;
          this.socket.destroy();
          return;
        }
      }
    })().finally(() => {
      this.working = undefined;
    });
  }

  async drainAndClose() {
    await this.working;
    this.socket.end();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    this.socket.destroy();
  }
}

/** One line per message that was not simply applied; ids first, no patient data. */
function logOutcome(log: Logger, message: ProcessedMessage, via: string) {
  const { outcome } = message;
  const fields = {
    messageId: message.id,
    via,
    status: outcome.status,
    ackCode: outcome.ackCode,
    eventType: outcome.eventType,
    reason: outcome.errorReason,
  };
  if (message.internalError) {
    log.error({ ...fields, err: message.internalError }, 'hl7 message failed');
  } else if (outcome.status === 'rejected') {
    log.info(fields, 'hl7 message rejected');
  } else {
    log.debug(fields, 'hl7 message processed');
  }
}
