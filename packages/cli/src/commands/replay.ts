import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';

import { auditWriterFor } from '@medaxis/audit';
import { replayMimic, type ReplaySummary } from '@medaxis/interop';

import { openDatabase } from '../context.ts';

export function registerReplay(program: Command): void {
  const replay = program.command('replay').description('play recorded history as live events');

  replay
    .command('mimic <dir>')
    .description(
      'play the MIMIC-IV transfers as live admits, transfers and discharges, in time order',
    )
    .option('--speed <factor>', 'historical seconds per wall-clock second', positive, 3600)
    .option('--max-wait <seconds>', 'longest wait between two events', positive, 3)
    .option('--limit <n>', 'stop after n events', positiveInteger)
    .option('--tz <zone>', 'IANA time zone MIMIC timestamps are read in', 'UTC')
    .action(
      async (
        dir: string,
        options: { speed: number; maxWait: number; limit?: number; tz: string },
      ) => {
        const database = await openDatabase({ log: (message) => console.error(message) });
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        const bar = process.stderr.isTTY
          ? new cliProgress.SingleBar(
              { format: 'replaying {bar} {value}/{total} events  {history}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        try {
          const summary = await replayMimic(database.db, {
            dir,
            timeZone: options.tz,
            speed: options.speed,
            maxWaitMs: options.maxWait * 1000,
            limit: options.limit,
            signal: stop.signal,
            audit: auditWriterFor(database.db),
            onEvent: ({ index, total, event }) => {
              if (index === 0) bar?.start(total, 0, { history: '' });
              bar?.update(index + 1, { history: event.at.toISOString().slice(0, 16) });
            },
          });
          bar?.stop();
          console.log(formatSummary(summary));
        } finally {
          bar?.stop();
          process.off('SIGINT', onSignal);
          await database.close();
        }
      },
    );
}

function formatSummary(summary: ReplaySummary): string {
  const lines = [
    `replay ${summary.run}: ${summary.events}/${summary.total} events played, ` +
      `${summary.applied} applied, beds cleaned for incoming patients: ${summary.bedsCleaned}`,
  ];
  if (summary.leftoversDischarged > 0) {
    lines.push(`  discharged ${summary.leftoversDischarged} patients left by an earlier replay`);
  }
  for (const [reason, count] of Object.entries(summary.refusedByReason)) {
    lines.push(`  refused ${count}: ${reason}`);
  }
  if (summary.rowsLeftOut > 0) {
    lines.push(`  ${summary.rowsLeftOut} transfers rows left out (see the import report)`);
  }
  return lines.join('\n');
}

function positive(text: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value))
    throw new InvalidArgumentError(`not a positive number: ${text}`);
  return value;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError(`not a positive integer: ${text}`);
  return value;
}
