import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { realdataDir } from '@medaxis/db/testing';
import { describe, expect, it } from 'vitest';

import { parseHl7Date, parseHl7Timestamp } from './timestamp.ts';

const vectors = join(realdataDir, 'hl7v2-library-fixtures/hl7_timestamp_vectors_medplum.tsv');

describe('HL7 timestamps', () => {
  const utc = { timeZone: 'UTC' };

  it.skipIf(!existsSync(vectors))('agrees with the Medplum vectors (realdata)', () => {
    const lines = readFileSync(vectors, 'utf8').trim().split('\n').slice(1);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const [input, options, expected] = line.split('\t');
      const offset = /tzOffset=([+-][\d:]+)/.exec(options ?? '')?.[1];
      expect(parseHl7Timestamp(input!, { ...utc, offset })?.at.toISOString(), input).toBe(expected);
    }
  });

  it('reads every precision from year to fractions of a second', () => {
    const read = (text: string) => parseHl7Timestamp(text, utc);
    expect(read('2026')).toMatchObject({ precision: 'year' });
    expect(read('2026')?.at.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(read('202612')?.at.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(read('20261203')?.at.toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(read('2026120310')?.at.toISOString()).toBe('2026-12-03T10:00:00.000Z');
    // One fractional digit is tenths: .4 is 400 ms (Medplum reads it as 4 ms).
    expect(read('20210817151943.4+0200')?.at.toISOString()).toBe('2021-08-17T13:19:43.400Z');
    expect(read('20261203101500.1234')).toMatchObject({ precision: 'fraction' });
  });

  it('applies the offset in the value, else the default offset, else the hospital zone', () => {
    expect(parseHl7Timestamp('198908181126+0215', utc)?.at.toISOString()).toBe(
      '1989-08-18T09:11:00.000Z',
    );
    const newYork = { timeZone: 'America/New_York' };
    expect(parseHl7Timestamp('202607011200', newYork)?.at.toISOString()).toBe(
      '2026-07-01T16:00:00.000Z',
    );
    expect(
      parseHl7Timestamp('202607011200', { ...newYork, offset: '+0100' })?.at.toISOString(),
    ).toBe('2026-07-01T11:00:00.000Z');
    // 02:30 on the spring-forward night does not exist in New York: moved forward an hour.
    expect(parseHl7Timestamp('202603080230', newYork)?.at.toISOString()).toBe(
      '2026-03-08T07:30:00.000Z',
    );
  });

  it('reads years below 100 as such (Date.UTC would make them 19xx)', () => {
    expect(parseHl7Timestamp('00500101', utc)?.at.getUTCFullYear()).toBe(50);
  });

  it('refuses what is not a timestamp, including impossible dates', () => {
    for (const text of ['', 'yesterday', '20260231', '2026120325', '20261203+2500', '1-2-3']) {
      expect(parseHl7Timestamp(text, utc), text).toBeUndefined();
    }
  });

  it('reads birth dates and ignores implausible ones', () => {
    const today = new Date('2026-12-03T00:00:00Z');
    expect(parseHl7Date('19241010', today)).toBe('1924-10-10');
    expect(parseHl7Date('10131113', today)).toBeUndefined();
    expect(parseHl7Date('20270101', today)).toBeUndefined();
  });
});
