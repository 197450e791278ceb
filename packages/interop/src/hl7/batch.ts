import { createHash } from 'node:crypto';

import { startsWithBom } from './text.ts';

/** One message cut out of a frame or file, as the exact bytes it was received as. */
export interface MessageSlice {
  raw: Buffer;
  /** Offset of the slice in what it was cut from. */
  offset: number;
}

export interface SplitFrame {
  /** The frame starts with FHS or BHS: a batch whose messages are stored one by one. */
  batch: boolean;
  /** FHS-11/BHS-11 batch control id, when given (the batch ACK refers to it). */
  batchControlId: string;
  hadFileHeader: boolean;
  messages: MessageSlice[];
}

const segmentStarts = ['MSH', 'FHS', 'BHS', 'BTS', 'FTS'] as const;

/**
 * Finds where segments named MSH, FHS, BHS, BTS and FTS begin: at the start (after a BOM) or
 * after a CR or LF. Works on bytes, so a message's slice is exactly what was received.
 */
function findSegmentStarts(bytes: Buffer): { name: string; at: number }[] {
  const found: { name: string; at: number }[] = [];
  const first = startsWithBom(bytes) ? 3 : 0;
  for (let at = first; at < bytes.length - 2; at++) {
    const lineStart = at === first || bytes[at - 1] === 0x0d || bytes[at - 1] === 0x0a;
    if (!lineStart) continue;
    const name = bytes.toString('latin1', at, at + 3);
    if ((segmentStarts as readonly string[]).includes(name)) found.push({ name, at });
  }
  return found;
}

/**
 * Cuts a frame into the messages it holds. A frame that starts with MSH is one message, kept
 * whole. A batch (FHS/BHS ... BTS/FTS) is cut at each MSH: every message keeps the bytes from
 * its MSH up to the next header or trailer segment, separators included.
 */
export function splitFrame(frame: Buffer): SplitFrame {
  let head = startsWithBom(frame) ? 3 : 0;
  while (frame[head] === 0x0d || frame[head] === 0x0a) head++;
  const name = frame.toString('latin1', head, head + 3);
  if (name !== 'FHS' && name !== 'BHS') {
    return {
      batch: false,
      batchControlId: '',
      hadFileHeader: false,
      messages: [{ raw: frame, offset: 0 }],
    };
  }
  const starts = findSegmentStarts(frame);
  const first = starts[0]!;
  const messages: MessageSlice[] = [];
  for (const [index, start] of starts.entries()) {
    if (start.name !== 'MSH') continue;
    const end = starts[index + 1]?.at ?? frame.length;
    messages.push({ raw: frame.subarray(start.at, end), offset: start.at });
  }
  const header = starts.find((start) => start.name === 'BHS') ?? first;
  const headerLine = frame
    .toString('latin1', header.at, starts[starts.indexOf(header) + 1]?.at ?? frame.length)
    .split(/[\r\n]/)[0]!;
  const separator = headerLine.charAt(3);
  return {
    batch: true,
    batchControlId: separator ? (headerLine.split(separator)[10] ?? '') : '',
    hadFileHeader: first.name === 'FHS',
    messages,
  };
}

/**
 * Cuts a file into the frames `medaxis hl7 send` transmits: a batch file is one frame, any
 * other file one frame per message (each from its MSH, a leading BOM kept with the first).
 */
export function splitFile(bytes: Buffer): Buffer[] {
  const starts = findSegmentStarts(bytes);
  const first = starts[0];
  if (!first) return bytes.length > 0 ? [bytes] : [];
  if (first.name === 'FHS' || first.name === 'BHS') return [bytes];
  const messageStarts = starts.filter((start) => start.name === 'MSH');
  return messageStarts.map((start, index) =>
    bytes.subarray(index === 0 ? 0 : start.at, messageStarts[index + 1]?.at ?? bytes.length),
  );
}

/**
 * The key for exact retransmissions: SHA-256 over the message with a BOM dropped and line
 * endings normalised to CR (a resend through another engine may turn CR into CRLF), trailing
 * line breaks ignored. MSH-10 and MSH-7 are part of it, so a reused control id with other
 * content is a different message.
 */
export function payloadHash(raw: Uint8Array): string {
  const body = Buffer.from(startsWithBom(raw) ? raw.subarray(3) : raw);
  const normalized = body
    .toString('latin1')
    .replace(/\r\n|\n/g, '\r')
    .replace(/[\r\n]+$/, '');
  return createHash('sha256').update(normalized, 'latin1').digest('hex');
}
