import { auditWriterFor } from '@medaxis/audit';
import { executeCommand, type CommandContext, type Db } from '@medaxis/db';
import { historyCommandOptions, isMedaxisError, type Command } from '@medaxis/domain';

import { admitNewPatient } from '../demo/patients.ts';
import type { Random } from '../demo/random.ts';
import type { PlannedStep } from './plan.ts';

export interface ApplyReport {
  applied: number;
  refused: { command: Command['type']; reason: string }[];
  /** Steps left out because a step they depend on (the encounter's admission) was refused. */
  skipped: number;
}

/**
 * Applies planned steps through the domain, several at a time. Steps touching the same bed or
 * encounter run in plan order (each waits for the previous one on each of its keys); others
 * run side by side, which is what makes seeding 300 beds take seconds.
 */
export async function applyPlan(
  db: Db,
  steps: readonly PlannedStep[],
  options: { random: Random; authority: string; now: Date; concurrency: number },
): Promise<ApplyReport> {
  const report: ApplyReport = { applied: 0, refused: [], skipped: 0 };
  const audit = auditWriterFor(db);
  const context: CommandContext = {
    source: 'seed',
    options: historyCommandOptions(options.now),
    // The demo's patients are patients too: every placement is an audited write.
    audit,
    // Each command commits on its own; waiting for every commit's WAL flush would make the
    // seed crawl. A crash mid-seed may lose the last few commits, never consistency.
    prepare: async (tx) => {
      await tx.query(`SET LOCAL synchronous_commit = off`);
    },
  };
  const encounterIds = new Map<string, string>();
  const limit = limiter(options.concurrency);
  const tails = new Map<string, Promise<void>>();

  const apply = async (step: PlannedStep): Promise<'applied' | 'skipped'> => {
    const planned = step.encounter;
    if (planned && step.createsEncounter) {
      if (step.command.type !== 'admit') throw new Error('an encounter starts with an admit');
      const { encounterId } = await admitNewPatient(
        db,
        options.random,
        options.authority,
        {
          class: planned.class,
          departmentId: planned.department.id,
          departmentKind: planned.department.kind,
          admitDecisionAt: planned.admitDecisionAt,
          expectedDischargeAt: planned.expectedDischargeAt,
          visitNumber: planned.visitNumber,
          sourceSystem: 'seed',
        },
        { bedId: step.command.bedId, at: step.command.at },
        context,
      );
      encounterIds.set(planned.visitNumber, encounterId);
      return 'applied';
    }
    let command = step.command;
    if (planned) {
      const encounterId = encounterIds.get(planned.visitNumber);
      if (!encounterId) return 'skipped';
      command = { ...command, encounterId } as Command;
    }
    await executeCommand(db, command, context);
    return 'applied';
  };

  const runs = steps.map((step) => {
    const keys = step.bedIds.map((id) => `bed:${id}`);
    if (step.encounter) keys.push(`visit:${step.encounter.visitNumber}`);
    const run = Promise.all(keys.flatMap((key) => tails.get(key) ?? []))
      .then(() => limit(() => apply(step)))
      .then(
        (outcome) => {
          report[outcome] += 1;
        },
        (error: unknown) => {
          if (!isMedaxisError(error)) throw error;
          report.refused.push({ command: step.command.type, reason: error.reason });
        },
      );
    // Later steps on these keys wait for this one, whatever its outcome.
    const settled = run.catch(() => {});
    for (const key of keys) tails.set(key, settled);
    return run;
  });

  // Wait for every step before failing, so nothing still runs on the pool afterwards.
  const failure = (await Promise.allSettled(runs)).find((r) => r.status === 'rejected');
  await audit.flush();
  if (failure) throw failure.reason;
  return report;
}

/** Runs at most `concurrency` tasks at once, the others in the order they asked. */
function limiter(concurrency: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
