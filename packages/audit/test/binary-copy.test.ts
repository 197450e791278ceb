import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { readBinaryCopy } from '../src/binary-copy.ts';

/** A binary COPY stream of two-field tuples (text, NULL or text), as PostgreSQL writes it. */
function copyStream(tuples: readonly (readonly (string | null)[])[]): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const fields of tuples) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(fields.length);
    parts.push(count);
    for (const field of fields) {
      const length = Buffer.alloc(4);
      const bytes = field === null ? Buffer.alloc(0) : Buffer.from(field);
      length.writeInt32BE(field === null ? -1 : bytes.length);
      parts.push(length, bytes);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

async function readInChunks(bytes: Buffer, size: number): Promise<(string | null)[][]> {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) {
    chunks.push(bytes.subarray(start, start + size));
  }
  const read: (string | null)[][] = [];
  await readBinaryCopy(Readable.from(chunks), 2, (tuple) => {
    read.push([tuple.text(0), tuple.text(1)]);
  });
  return read;
}

describe('binary COPY reader', () => {
  // Short rows, a NULL, and one row longer than the part of a chunk the reader first joins
  // to a tuple cut between chunks (4 KiB).
  const tuples = [
    ...Array.from({ length: 50 }, (_, index) => [`row ${index}`, index % 3 ? 'x' : null]),
    ['long', 'é'.repeat(9_000)],
    ...Array.from({ length: 50 }, (_, index) => [`after ${index}`, 'y'.repeat(index * 37)]),
  ];
  const bytes = copyStream(tuples);

  it.each([1, 2, 19, 100, 4_095, 4_097, 20_000, bytes.length])(
    'reads every tuple whole when the stream arrives in chunks of %i bytes',
    async (size) => {
      expect(await readInChunks(bytes, size)).toEqual(tuples);
    },
  );
});
