import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

import type { AuditRecord } from './canonical.ts';
import type { SealEntry } from './seal-chain.ts';

/**
 * A JSON-lines copy of the audit log for a SIEM, written after each commit. It is a feed, not
 * the record: the database is the record, and a line lost with a crash is still in the table.
 * Seal entries go to it too, so the SIEM holds the seal hashes verify can be checked against.
 */
export interface AuditMirror {
  rows(rows: readonly (AuditRecord & { hash: Buffer })[]): void;
  seal(entry: SealEntry): void;
  close(): Promise<void>;
}

/**
 * `stdout`, or a file path (appended to, its folder created): the value of AUDIT_MIRROR.
 * Lines: `{"type":"medaxis.audit.row",...,"hash":"<hex>"}` and `{"type":"medaxis.audit.seal",…}`.
 */
export function createMirror(target: string): AuditMirror {
  let stream: NodeJS.WritableStream;
  let file: WriteStream | undefined;
  if (target === 'stdout') {
    stream = process.stdout;
  } else {
    mkdirSync(dirname(target), { recursive: true });
    file = createWriteStream(target, { flags: 'a' });
    stream = file;
  }
  const write = (line: object) => stream.write(`${JSON.stringify(line)}\n`);
  return {
    rows(rows) {
      for (const { hash, ...row } of rows) {
        write({ type: 'medaxis.audit.row', ...row, hash: hash.toString('hex') });
      }
    },
    seal(entry) {
      write({
        type: 'medaxis.audit.seal',
        ...entry,
        root: entry.root?.toString('hex') ?? null,
        lastHash: entry.lastHash?.toString('hex') ?? null,
        prevHash: entry.prevHash.toString('hex'),
        hash: entry.hash.toString('hex'),
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!file) return resolve();
        file.end(() => resolve());
      }),
  };
}
