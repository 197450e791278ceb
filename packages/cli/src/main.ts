import { Command } from 'commander';

import { registerAudit } from './commands/audit.ts';
import { registerCensus } from './commands/census.ts';
import { registerHl7 } from './commands/hl7.ts';
import { registerImport } from './commands/import.ts';
import { registerExport } from './commands/interop.ts';
import { registerReplay } from './commands/replay.ts';
import { registerSeed } from './commands/seed.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerStart } from './commands/start.ts';
import { registerUser } from './commands/user.ts';

const program = new Command('medaxis')
  .description('MedAxis hospital operations platform')
  .showHelpAfterError();

registerStart(program);
registerSeed(program);
registerSimulate(program);
registerImport(program);
registerExport(program);
registerReplay(program);
registerCensus(program);
registerUser(program);
registerHl7(program);
registerAudit(program);

await program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`medaxis: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
