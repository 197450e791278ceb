import type { Readable } from 'node:stream';

/**
 * Reads PostgreSQL's binary COPY format (COPY … TO STDOUT (FORMAT binary)) tuple by tuple,
 * without turning fields into JavaScript values: each tuple is handed over as offsets into
 * the current buffer, valid only during the callback. Verifying a million rows is mostly
 * reading them, and this skips node-postgres' row objects, text parsing and Date objects.
 * Format: https://www.postgresql.org/docs/current/sql-copy.html ("Binary Format").
 */
export class BinaryTuple {
  buffer: Buffer = Buffer.alloc(0);
  /** Start of each field's bytes, and its length (-1 for NULL). */
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly fieldCount: number;

  constructor(fieldCount: number) {
    this.fieldCount = fieldCount;
    this.starts = new Int32Array(fieldCount);
    this.lengths = new Int32Array(fieldCount);
  }

  isNull(field: number): boolean {
    return this.lengths[field]! < 0;
  }

  text(field: number): string | null {
    const length = this.lengths[field]!;
    if (length < 0) return null;
    const start = this.starts[field]!;
    return this.buffer.toString('utf8', start, start + length);
  }

  /** An int8 as a number: audit ids stay far below 2^53. */
  int8(field: number): number {
    const start = this.starts[field]!;
    return this.buffer.readInt32BE(start) * 4_294_967_296 + this.buffer.readUInt32BE(start + 4);
  }

  /** A timestamptz as milliseconds since the Unix epoch (it is stored in microseconds). */
  timestampMs(field: number): number {
    return postgresEpochMs + Math.floor(this.int8(field) / 1000);
  }

  bytes(field: number): Buffer {
    const start = this.starts[field]!;
    return this.buffer.subarray(start, start + this.lengths[field]!);
  }
}

const postgresEpochMs = Date.UTC(2000, 0, 1);
const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Calls `onTuple` for each tuple of a binary COPY stream, in order. When it returns a promise,
 * reading waits for it (the stream is paused meanwhile); otherwise nothing is awaited.
 */
export async function readBinaryCopy(
  stream: Readable,
  fieldCount: number,
  onTuple: (tuple: BinaryTuple) => void | Promise<void>,
): Promise<void> {
  const tuple = new BinaryTuple(fieldCount);
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (ended) continue;
    let buffer = chunk;
    let position = 0;
    if (!headerRead) {
      buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      if (buffer.length < 19) {
        pending = buffer;
        continue;
      }
      if (!buffer.subarray(0, 11).equals(signature)) throw new Error('not a binary COPY stream');
      position = 19 + buffer.readInt32BE(15);
      headerRead = true;
    } else if (pending.length > 0) {
      const across = await readAcross(pending, chunk, tuple, onTuple);
      if (across.kind === 'ended') {
        ended = true;
        continue;
      }
      if (across.kind === 'pending') {
        pending = across.pending;
        continue;
      }
      position = across.position;
    }
    tuple.buffer = buffer;
    position = await readTuples(buffer, position, tuple, onTuple);
    if (position < 0) {
      ended = true;
      continue;
    }
    pending = buffer.subarray(position);
  }
}

/**
 * Reads the tuple cut between the end of the last chunk (`pending`) and `chunk`, joined with
 * just enough of the chunk to complete it: copying a few KiB rather than every chunk.
 * Returns where reading goes on in `chunk`, or what is still pending, or that the stream's
 * trailer was read.
 */
async function readAcross(
  pending: Buffer,
  chunk: Buffer,
  tuple: BinaryTuple,
  onTuple: (tuple: BinaryTuple) => void | Promise<void>,
): Promise<
  { kind: 'position'; position: number } | { kind: 'pending'; pending: Buffer } | { kind: 'ended' }
> {
  for (let take = Math.min(chunk.length, 4096); ; take = Math.min(chunk.length, take * 8)) {
    const joined = Buffer.concat([pending, chunk.subarray(0, take)]);
    tuple.buffer = joined;
    const position = await readTuples(joined, 0, tuple, onTuple);
    if (position < 0) return { kind: 'ended' };
    if (take === chunk.length) return { kind: 'pending', pending: joined.subarray(position) };
    // `pending` starts with an incomplete tuple: once that one is read, the rest is the chunk's.
    if (position > 0) return { kind: 'position', position: position - pending.length };
    // The cut tuple is longer than what was taken, and nothing was handed over: take more.
  }
}

/** Hands over every complete tuple from `from` on; returns where the first incomplete one
 * starts, or -1 once the trailer is read. */
async function readTuples(
  buffer: Buffer,
  from: number,
  tuple: BinaryTuple,
  onTuple: (tuple: BinaryTuple) => void | Promise<void>,
): Promise<number> {
  let position = from;
  for (;;) {
    if (position + 2 > buffer.length) return position;
    const fields = buffer.readInt16BE(position);
    if (fields === -1) return -1; // trailer
    if (fields !== tuple.fieldCount) {
      throw new Error(`binary COPY: ${fields} fields, expected ${tuple.fieldCount}`);
    }
    let cursor = position + 2;
    for (let field = 0; field < fields; field++) {
      if (cursor + 4 > buffer.length) return position;
      const length = buffer.readInt32BE(cursor);
      cursor += 4;
      tuple.starts[field] = cursor;
      tuple.lengths[field] = length;
      if (length > 0) cursor += length;
    }
    if (cursor > buffer.length) return position;
    const waiting = onTuple(tuple);
    if (waiting) await waiting;
    position = cursor;
  }
}
