import { readFile } from 'node:fs/promises';

import { AuditWriter } from '@medaxis/audit';
import { isMedaxisError } from '@medaxis/domain';
import { InvalidArgumentError, type Command } from 'commander';

import {
  countOpenImportRejections,
  importKinds,
  isImportKind,
  listOpenImportRejections,
  loadImportRejection,
  reprocessImportRejection,
  systemActor,
  type ImportKind,
  type ImportRejectionSummary,
} from '@medaxis/interop';

import { openDatabase } from '../context.ts';
import { systemAccess } from '../system-access.ts';

/*
 * `medaxis import rejections`, `import rejection <id>` and `import reprocess`: the rows
 * imports kept in import_rejection, and applying them again (docs/imports.md, "Rejected rows").
 */

export function registerImportRejections(importCommand: Command): void {
  importCommand
    .command('rejections')
    .description(
      'list the open rejections imports kept (not reprocessed yet), newest first: id, run, ' +
        'kind, file and row, attempt, reason; no row contents (see `import rejection <id>`)',
    )
    .option('--kind <kind>', `only ${importKinds.join(', ')}`, parseKind)
    .option('--run <n>', 'only rejections of this import run', parseId)
    .option('--limit <n>', 'how many', parseId, 100)
    .option('--json', 'print them as JSON')
    .action(async (options: { kind?: ImportKind; run?: number; limit: number; json?: boolean }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const rejections = await listOpenImportRejections(database.db, {
          kind: options.kind,
          runId: options.run,
          limit: options.limit,
        });
        if (options.json) {
          console.log(JSON.stringify(rejections, null, 2));
          return;
        }
        const counts = await countOpenImportRejections(database.db);
        console.log(
          `open rejections: ${Object.entries(counts)
            .map(([kind, count]) => `${kind} ${count}`)
            .join(', ')}`,
        );
        for (const rejection of rejections) console.log(formatRejection(rejection));
        if (rejections.some((rejection) => !rejection.reprocessable)) {
          console.log(
            '  (*) MIMIC rows are not reprocessed one by one: fix the files and run ' +
              '`medaxis import mimic` again; the rows it applies are marked reprocessed',
          );
        }
      } finally {
        await database.close();
      }
    });

  importCommand
    .command('rejection <id>')
    .description(
      'one kept rejection as JSON, with its row as stored (the row may identify a patient: ' +
        'the read is audited), to fix it and give it to `import reprocess --row`',
    )
    .action(async (id: string) => {
      parseRejectionId(id);
      systemAccess('patient.read');
      const database = await openDatabase({ log: (message) => console.error(message) });
      const audit = new AuditWriter(database.db);
      try {
        const rejection = await loadImportRejection(database.db, id);
        if (!rejection) throw new Error(`no rejection ${id}`);
        // The row is what an import read from a file, patient identity included.
        await audit.record({
          source: 'cli',
          operation: 'import.rejection',
          action: 'read',
          actor: systemActor,
          purpose: 'operations',
          resourceType: 'import_rejection',
          resourceId: id,
          outcome: 'allowed',
        });
        console.log(JSON.stringify(rejection, null, 2));
      } finally {
        await audit.close();
        await database.close();
      }
    });

  importCommand
    .command('reprocess')
    .description(
      'apply kept rejections again through their importer (FHIR, Synthea, locations) and ' +
        'print the outcome of each: applied, rejected again (kept as a new rejection with its ' +
        'new reason) or refused; exits 1 unless every one applied',
    )
    .argument('[ids...]', 'rejection ids (see `medaxis import rejections`)')
    .option('--run <n>', 'every open rejection of this import run, oldest first', parseId)
    .option('--row <file>', 'a JSON file with the fixed row to apply instead (one id only)')
    .option('--json', 'print the outcomes as JSON')
    .action(async (ids: string[], options: { run?: number; row?: string; json?: boolean }) => {
      if (ids.length > 0 === (options.run !== undefined)) {
        throw new InvalidArgumentError('give rejection ids or --run <n>, not both');
      }
      if (options.row !== undefined && ids.length !== 1) {
        throw new InvalidArgumentError('--row applies to one rejection id');
      }
      ids.forEach(parseRejectionId);
      const row = options.row === undefined ? undefined : await readRow(options.row);
      systemAccess('patient.write');
      const database = await openDatabase({ log: (message) => console.error(message) });
      const audit = new AuditWriter(database.db);
      try {
        const targets =
          options.run === undefined
            ? ids
            : (await listOpenImportRejections(database.db, { runId: options.run, limit: 100_000 }))
                .reverse()
                .map((rejection) => rejection.id);
        const results = [];
        for (const id of targets) {
          try {
            const outcome = await reprocessImportRejection(database.db, id, {
              by: 'system',
              row,
              audit,
            });
            results.push({ ...outcome, refused: null });
          } catch (error) {
            if (!isMedaxisError(error)) throw error;
            results.push({
              id,
              status: 'refused' as const,
              code: error.reason,
              reason: error.message,
            });
          }
        }
        if (options.json) console.log(JSON.stringify(results, null, 2));
        else {
          for (const result of results) console.log(formatOutcome(result));
          console.log(tally(results));
        }
        process.exitCode = results.every((result) => result.status === 'applied') ? 0 : 1;
      } finally {
        await audit.close();
        await database.close();
      }
    });
}

function formatRejection(rejection: ImportRejectionSummary): string {
  return [
    rejection.id.padStart(8),
    `run ${rejection.runId}`.padEnd(8),
    `${rejection.kind}${rejection.reprocessable ? '' : '*'}`.padEnd(10),
    `${rejection.file}:${rejection.rowNumber}`,
    rejection.attempt > 1 ? `attempt ${rejection.attempt}` : '',
    `${rejection.code}: ${rejection.reason}`,
  ]
    .filter(Boolean)
    .join('  ');
}

interface PrintedOutcome {
  id: string;
  status: 'applied' | 'rejected' | 'refused';
  code: string | null;
  reason: string | null;
  file?: string;
  rowNumber?: number;
  edited?: boolean;
  retryId?: string | null;
}

function formatOutcome(result: PrintedOutcome): string {
  const where = result.file === undefined ? '' : `  ${result.file}:${result.rowNumber}`;
  const edited = result.edited ? ' (edited row)' : '';
  const why = result.code ? `  ${result.code}: ${result.reason}` : '';
  const retry = result.retryId ? `  (kept as rejection ${result.retryId})` : '';
  return `${result.id.padStart(8)}  ${result.status.padEnd(8)}${where}${edited}${why}${retry}`;
}

function tally(results: readonly PrintedOutcome[]): string {
  const counts = new Map<string, number>();
  for (const { status } of results) counts.set(status, (counts.get(status) ?? 0) + 1);
  const parts = [...counts].map(([status, count]) => `${status} ${count}`);
  return `reprocessed ${results.length}: ${parts.join(', ') || 'nothing'}`;
}

async function readRow(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`--row ${file}: ${(error as Error).message}`);
  }
}

function parseKind(value: string): ImportKind {
  if (!isImportKind(value)) throw new InvalidArgumentError(`one of ${importKinds.join(', ')}`);
  return value;
}

function parseId(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 2 ** 31 - 1) {
    throw new InvalidArgumentError('expected a whole number');
  }
  return number;
}

function parseRejectionId(value: string): string {
  if (!/^[1-9]\d{0,17}$/.test(value)) {
    throw new InvalidArgumentError(`${value} is not a rejection id`);
  }
  return value;
}
