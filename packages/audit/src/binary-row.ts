import { hash } from 'node:crypto';

import type { BinaryTuple } from './binary-copy.ts';
import { canonicalVersion } from './canonical.ts';

/** The audit_event columns verify reads, in the order of the canonical row, then the hash. */
export const rowColumns = [
  'id',
  'at',
  'source',
  'operation',
  'action',
  'actor_kind',
  'actor_id',
  'roles',
  'device_id',
  'purpose',
  'resource_type',
  'resource_id',
  'patient_ids',
  'outcome',
  'reason',
  'request_id',
  'client_address',
  'hash',
] as const;

const field = Object.fromEntries(rowColumns.map((name, index) => [name, index])) as Record<
  (typeof rowColumns)[number],
  number
>;
export const hashField = field.hash;

const hexDigits = Buffer.from('0123456789abcdef', 'latin1');
const rowPrefix = Buffer.from(`["${canonicalVersion}","`, 'latin1');
const [quote, comma, open, close, dash, dot, zulu] = [0x22, 0x2c, 0x5b, 0x5d, 0x2d, 0x2e, 0x5a];

/**
 * Computes a row's chain hash straight from its binary COPY tuple: it writes the canonical
 * row (canonical.ts) byte by byte after the previous hash and hashes that, with no
 * intermediate JavaScript strings or objects. A string field that needs escaping (a quote, a
 * backslash, a control character) goes through JSON.stringify itself, so the rare case is
 * the definition; a property test holds the common case to it too.
 */
export class BinaryRowHasher {
  #out = Buffer.alloc(64 * 1024);
  #at = 0;
  // The instant's first 17 characters ("2026-12-03T21:10:") change once a minute.
  #minute = Number.NaN;
  #minutePrefix = Buffer.alloc(0);

  /**
   * sha256(previous ‖ canonical row of `tuple`) as a latin1 string, one character per byte
   * (compare it with `sameBytes`): Node's one-shot hash returns a string about three times
   * faster than a Buffer, and verify hashes every row.
   */
  digest(previous: Uint8Array, tuple: BinaryTuple): string {
    const row = tuple.buffer;
    // A field grows at most sixfold when escaped (\u00xx); uuids and digits far less.
    let worst = 256;
    for (let index = 0; index < tuple.fieldCount; index++) {
      worst += Math.max(0, tuple.lengths[index]!) * 6 + 8;
    }
    if (this.#out.length < worst) this.#out = Buffer.alloc(worst * 2);
    const out = this.#out;

    out.set(previous, 0);
    this.#at = 32;
    this.#bytes(rowPrefix);
    this.#decimal(tuple.int8(field.id));
    out[this.#at++] = quote;
    out[this.#at++] = comma;
    out[this.#at++] = quote;
    this.#instant(tuple.timestampMs(field.at));
    out[this.#at++] = quote;
    for (let index = field.source; index < hashField; index++) {
      out[this.#at++] = comma;
      if (index === field.roles) this.#textArray(row, tuple.starts[index]!);
      else if (index === field.patient_ids) this.#uuidArray(row, tuple.starts[index]!);
      else this.#string(row, tuple.starts[index]!, tuple.lengths[index]!);
    }
    out[this.#at++] = close;
    return hash('sha256', out.subarray(0, this.#at), 'binary');
  }

  // Short fields are copied byte by byte while they are checked for escapes: cheaper than a
  // Buffer#copy call per field, which is most of a row's fields.
  #string(row: Buffer, start: number, length: number): void {
    const out = this.#out;
    if (length < 0) {
      out[this.#at++] = 0x6e; // null
      out[this.#at++] = 0x75;
      out[this.#at++] = 0x6c;
      out[this.#at++] = 0x6c;
      return;
    }
    const end = start + length;
    const begin = this.#at;
    let at = begin;
    out[at++] = quote;
    for (let index = start; index < end; index++) {
      const byte = row[index]!;
      if (byte < 0x20 || byte === quote || byte === 0x5c) {
        const json = JSON.stringify(row.toString('utf8', start, end));
        this.#at = begin + out.write(json, begin, 'utf8');
        return;
      }
      // Every other byte, multi-byte UTF-8 included, is written by JSON as itself.
      out[at++] = byte;
    }
    out[at++] = quote;
    this.#at = at;
  }

  #bytes(bytes: Uint8Array): void {
    const out = this.#out;
    for (let index = 0; index < bytes.length; index++) out[this.#at++] = bytes[index]!;
  }

  /** An integer in decimal, as String(value) writes it. */
  #decimal(value: number): void {
    const out = this.#out;
    if (value < 0) {
      this.#at += out.write(String(value), this.#at, 'latin1');
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let rest = value;
    for (let index = this.#at + digits - 1; index >= this.#at; index--) {
      out[index] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    this.#at += digits;
  }

  // Binary array: ndim, has-null flag, element type, then per dimension size and lower
  // bound, then each element as length and bytes. Audit lists are one-dimensional.
  #textArray(row: Buffer, start: number): void {
    this.#out[this.#at++] = open;
    if (row.readInt32BE(start) !== 0) {
      const size = row.readInt32BE(start + 12);
      let cursor = start + 20;
      for (let index = 0; index < size; index++) {
        const length = row.readInt32BE(cursor);
        cursor += 4;
        if (index > 0) this.#out[this.#at++] = comma;
        this.#string(row, cursor, length);
        if (length > 0) cursor += length;
      }
    }
    this.#out[this.#at++] = close;
  }

  #uuidArray(row: Buffer, start: number): void {
    const out = this.#out;
    out[this.#at++] = open;
    if (row.readInt32BE(start) !== 0) {
      const size = row.readInt32BE(start + 12);
      let cursor = start + 20;
      for (let index = 0; index < size; index++) {
        cursor += 4; // element length: always 16
        if (index > 0) out[this.#at++] = comma;
        out[this.#at++] = quote;
        for (let byte = 0; byte < 16; byte++) {
          if (byte === 4 || byte === 6 || byte === 8 || byte === 10) out[this.#at++] = dash;
          const value = row[cursor + byte]!;
          out[this.#at++] = hexDigits[value >> 4]!;
          out[this.#at++] = hexDigits[value & 15]!;
        }
        out[this.#at++] = quote;
        cursor += 16;
      }
    }
    out[this.#at++] = close;
  }

  /** Writes `YYYY-MM-DDTHH:MM:SS.mmmZ` as Date#toISOString does, reusing the minute's prefix. */
  #instant(ms: number): void {
    const out = this.#out;
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#minutePrefix = Buffer.from(new Date(minute * 60_000).toISOString().slice(0, 17));
    }
    this.#bytes(this.#minutePrefix);
    const rest = ms - minute * 60_000;
    const seconds = Math.floor(rest / 1000);
    const millis = rest - seconds * 1000;
    out[this.#at++] = 0x30 + Math.floor(seconds / 10);
    out[this.#at++] = 0x30 + (seconds % 10);
    out[this.#at++] = dot;
    out[this.#at++] = 0x30 + Math.floor(millis / 100);
    out[this.#at++] = 0x30 + (Math.floor(millis / 10) % 10);
    out[this.#at++] = 0x30 + (millis % 10);
    out[this.#at++] = zulu;
  }
}

/** Whether `digest` (a latin1 string, as BinaryRowHasher#digest returns) holds `bytes`. */
export function sameBytes(digest: string, bytes: Uint8Array): boolean {
  if (digest.length !== bytes.length) return false;
  for (let index = 0; index < bytes.length; index++) {
    if (digest.charCodeAt(index) !== bytes[index]) return false;
  }
  return true;
}
