import { connect, type Socket } from 'node:net';

import { standardEncoding, unescapeHl7, type Hl7Encoding } from './escape.ts';
import { encodeMllpFrame, MllpDecoder } from './mllp.ts';

export interface MllpClientOptions {
  host: string;
  port: number;
  /** How long to wait for each answer before giving up on the connection. */
  timeoutMs?: number;
}

/**
 * An MLLP client that sends payloads byte for byte (no re-encoding: a BOM, LF separators or a
 * broken message arrive as they are in the file) and returns the answers in order. Sends may
 * overlap: answers come back in the order the messages were sent.
 */
export class MllpClient {
  private readonly decoder = new MllpDecoder();
  private readonly waiting: {
    resolve: (answer: Buffer) => void;
    reject: (error: Error) => void;
    timer: NodeJS.Timeout | undefined;
  }[] = [];
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        const next = this.waiting.shift();
        if (next) {
          clearTimeout(next.timer);
          next.resolve(frame);
        }
      }
    });
    const fail = (error: Error) => {
      this.closedError ??= error;
      for (const pending of this.waiting.splice(0)) {
        clearTimeout(pending.timer);
        pending.reject(this.closedError);
      }
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the MLLP connection closed')));
  }

  static async connect(options: MllpClientOptions): Promise<MllpClient> {
    const socket = connect({ host: options.host, port: options.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new MllpClient(socket, options.timeoutMs ?? 30_000);
  }

  /** Sends one payload in an MLLP frame and resolves with the answer's payload. */
  send(payload: Uint8Array): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError);
    const answer = new Promise<Buffer>((resolve, reject) => {
      const entry = { resolve, reject, timer: undefined as NodeJS.Timeout | undefined };
      if (this.timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.socket.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      }
      this.waiting.push(entry);
    });
    this.socket.write(encodeMllpFrame(payload));
    return answer;
  }

  /** Writes raw bytes without framing (tests: a message cut off mid-frame). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => this.socket.end(resolve));
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** MSA-1, MSA-2 and ERR-5.1 of an ACK payload (unescaped): what a sender looks at. */
export function readAck(payload: Buffer | string): AckSummary & { all: AckSummary[] } {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const header = /^(?:MSH|BHS|FHS)(.)(.)(.)(.)(.)/.exec(text);
  const encoding: Hl7Encoding = header
    ? {
        field: header[1]!,
        component: header[2]!,
        repetition: header[3]!,
        escape: header[4]!,
        subcomponent: header[5]!,
      }
    : standardEncoding;
  const all: AckSummary[] = [];
  for (const segment of text.split(/\r\n|\r|\n/)) {
    const fields = segment.split(encoding.field);
    const value = (index: number) =>
      unescapeHl7((fields[index] ?? '').split(encoding.component)[0] ?? '', encoding);
    if (fields[0] === 'MSA') {
      all.push({ code: value(1), controlId: value(2), reason: '' });
    } else if (fields[0] === 'ERR' && all.length > 0) {
      all[all.length - 1]!.reason = value(5);
    }
  }
  return { ...(all[0] ?? { code: '', controlId: '', reason: '' }), all };
}

export interface AckSummary {
  code: string;
  controlId: string;
  reason: string;
}
