import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { progressBar } from './progress.ts';

function terminal(isTTY: boolean) {
  const written: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    }),
    { isTTY, columns: 100 },
  );
  return { stream, written };
}

describe('import progress bar', () => {
  it('draws on stderr when stdout and stderr are terminals', () => {
    const stderr = terminal(true);
    const bar = progressBar('rows', { stdout: { isTTY: true }, stderr: stderr.stream });

    bar.update(1, 4);
    bar.update(4, 4);
    bar.stop();

    expect(stderr.written.join('')).toContain('4/4 rows');
  });

  it('stays quiet when stdout is piped, so reports and logs stay clean', () => {
    const stderr = terminal(true);
    const bar = progressBar('rows', { stdout: { isTTY: false }, stderr: stderr.stream });

    bar.update(1, 4);
    bar.stop();

    expect(stderr.written).toEqual([]);
  });

  it('stays quiet when stderr is not a terminal', () => {
    const stderr = terminal(false);
    const bar = progressBar('events', { stdout: { isTTY: true }, stderr: stderr.stream });

    bar.update(1, 2);
    bar.stop();

    expect(stderr.written).toEqual([]);
  });
});
