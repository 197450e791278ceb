import { once } from 'node:events';

import type { Command } from 'commander';

import type { Db } from '@medaxis/db';

import { openDatabase } from '../context.ts';
import { loadHospitalConfig, type HospitalConfig } from '../hospital-config.ts';
import { AdtSimulator, type StepOutcome } from '../simulator.ts';

const say = (message: string) => process.stdout.write(`medaxis: ${message}\n`);

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run the ADT simulator on the database until stopped (npm start runs it too)')
    .action(async () => {
      const database = await openDatabase({ log: say });
      const simulator = startSimulator(database.db, loadHospitalConfig());
      say('simulator running; Ctrl-C to stop');
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      await simulator.stop();
      await database.close();
    });
}

/** Starts the simulator's loop, reporting refusals and failures and a count now and then. */
export function startSimulator(db: Db, config: HospitalConfig): AdtSimulator {
  const simulator = new AdtSimulator({ db, config, onStep: stepLogger() });
  simulator.start();
  return simulator;
}

function stepLogger() {
  let applied = 0;
  let refused = 0;
  return (outcome: StepOutcome) => {
    switch (outcome.status) {
      case 'applied':
        applied += 1;
        if (applied % 100 === 0) say(`simulator: ${applied} events applied, ${refused} refused`);
        return;
      case 'refused':
        refused += 1;
        say(`simulator: ${outcome.action} refused (${outcome.error.code} ${outcome.error.reason})`);
        return;
      case 'failed': {
        const message = outcome.error instanceof Error ? outcome.error.message : 'unknown error';
        say(`simulator: ${outcome.action} failed: ${message}`);
        return;
      }
      case 'idle':
        return;
    }
  };
}
