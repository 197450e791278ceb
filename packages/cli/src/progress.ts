import cliProgress from 'cli-progress';

export interface Progress {
  /** Pass as an importer's onProgress: the bar starts at the first call. */
  update: (done: number, total: number) => void;
  stop: () => void;
}

interface Streams {
  stdout: { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * A progress bar on stderr for a person watching a terminal: only when both stdout and stderr
 * are terminals, so piped output (`--json > report.json`), tests and CI logs stay clean.
 */
export function progressBar(unit: string, streams: Streams = process): Progress {
  if (!streams.stdout.isTTY || !streams.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `importing {bar} {value}/{total} ${unit}`,
      hideCursor: true,
      stream: streams.stderr,
      // Redraw at least every 100 ms even when updates come faster.
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
