import { resolveDatabase } from '@medaxis/db';

import { repoRoot } from './context.ts';

/**
 * Hosts the embedded PostgreSQL for `medaxis start`, which spawns this file detached: in a
 * process group of its own, PostgreSQL does not receive the terminal's Ctrl-C together with
 * the server and the worker, and the launcher stops it last, once nothing uses it any more.
 *
 * Messages to the launcher (IPC): `{ kind: 'log', message }`, then `{ kind: 'ready', url,
 * embedded }` or `{ kind: 'error', message }`. The launcher disconnecting (asking to stop, or
 * gone) lets go of it: PostgreSQL stops unless another MedAxis process still uses it.
 */
export type HostMessage =
  | { kind: 'log'; message: string }
  | { kind: 'ready'; url: string; embedded: boolean }
  | { kind: 'error'; message: string };

const send = (message: HostMessage) => process.send?.(message);

try {
  const handle = await resolveDatabase({
    rootDir: repoRoot,
    onStart: (message) => send({ kind: 'log', message }),
  });
  send({ kind: 'ready', url: handle.url, embedded: handle.embedded });

  // Hosted or joined, the launcher's end is this process's cue to let go: the last MedAxis
  // process to let go stops the embedded server (packages/db resolveDatabase).
  let stopping = false;
  process.on('disconnect', () => {
    if (stopping) return;
    stopping = true;
    handle.stop().then(
      (outcome) => {
        if (outcome === 'left_running') {
          process.stderr.write(
            'medaxis: embedded PostgreSQL left running: another MedAxis process still uses it\n',
          );
        }
        process.exit(0);
      },
      () => process.exit(1),
    );
  });
} catch (error) {
  send({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
