import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { auditWriterFor } from '@medaxis/audit';
import { InvalidArgumentError, type Command } from 'commander';

import {
  countHl7Messages,
  listHl7MessageIds,
  listHl7Messages,
  hl7MessageStatuses,
  type Hl7MessageStatus,
} from '@medaxis/db';
import { Hl7Processor, MllpClient, readAck, splitFile } from '@medaxis/interop';

import { openDatabase } from '../context.ts';

interface SendOptions {
  host: string;
  port: number;
  timeout: number;
}

export function registerHl7(program: Command): void {
  const hl7 = program
    .command('hl7')
    .description('HL7 v2 over MLLP: send files, list received messages, reprocess the rejected');

  hl7
    .command('send')
    .description(
      'send HL7 v2 messages over MLLP, byte for byte, and print each ACK: a file holds one or ' +
        'more messages (or one FHS/BHS batch); a folder sends its *.hl7 files in name order. ' +
        'Exits 1 if any message was not acknowledged AA',
    )
    .argument('<path>', 'a file or a folder')
    .option('--host <host>', 'MLLP listener', '127.0.0.1')
    .option('--port <n>', 'MLLP port', parseNumber, Number(process.env.MLLP_PORT ?? 2575))
    .option('--timeout <ms>', 'how long to wait for each ACK', parseNumber, 30_000)
    .action(async (path: string, options: SendOptions) => {
      process.exitCode = await send(path, options);
    });

  hl7
    .command('list')
    .description('received messages, newest first, with their outcome (no patient data)')
    .option('--status <status>', `only ${hl7MessageStatuses.join(', ')}`, parseStatus)
    .option('--limit <n>', 'how many', parseNumber, 20)
    .action(async (options: { status?: Hl7MessageStatus; limit: number }) => {
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const counts = await countHl7Messages(database.db);
        console.log(
          Object.entries(counts)
            .map(([status, count]) => `${status} ${count}`)
            .join(', ') || 'no messages',
        );
        const rows = await listHl7Messages(database.db, {
          statuses: options.status ? [options.status] : undefined,
          limit: options.limit,
        });
        for (const row of rows) {
          console.log(
            [
              row.id.padStart(8),
              row.receivedAt.slice(0, 19),
              (row.eventType ?? row.messageType ?? '?').padEnd(5),
              row.status.padEnd(11),
              row.ackCode ?? '--',
              row.controlId ?? '',
              row.errorReason ?? row.note ?? '',
            ].join('  '),
          );
        }
      } finally {
        await database.close();
      }
    });

  hl7
    .command('reprocess')
    .description('process stored messages again: one by id, or every rejected one (--failed)')
    .argument('[id]', 'message id (see `medaxis hl7 list`)')
    .option('--failed', 'every rejected message, oldest first')
    .action(async (id: string | undefined, options: { failed?: boolean }) => {
      if ((id === undefined) === !options.failed) {
        throw new InvalidArgumentError('give a message id or --failed, not both');
      }
      const database = await openDatabase({ log: (message) => console.error(message) });
      try {
        const processor = new Hl7Processor(database.db, { audit: auditWriterFor(database.db) });
        const ids = id
          ? [id]
          : await listHl7MessageIds(database.db, 'rejected', { limit: 100_000 });
        const tally = new Map<string, number>();
        for (const messageId of ids) {
          const { outcome } = await processor.reprocess(messageId);
          tally.set(outcome.status, (tally.get(outcome.status) ?? 0) + 1);
          console.log(
            `${messageId}  ${outcome.ackCode ?? '--'}  ${outcome.status}` +
              (outcome.errorReason ? `  ${outcome.errorReason}` : ''),
          );
        }
        console.log(
          `reprocessed ${ids.length}: ` +
            ([...tally].map(([status, count]) => `${status} ${count}`).join(', ') || 'nothing'),
        );
      } finally {
        await database.close();
      }
    });
}

/** Sends every message of `path` on one connection, one after the other. */
async function send(path: string, options: SendOptions): Promise<number> {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path))
        .filter((name) => name.endsWith('.hl7'))
        .sort()
        .map((name) => join(path, name))
    : [path];
  const client = await MllpClient.connect({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeout,
  });
  const tally = new Map<string, number>();
  try {
    for (const file of files) {
      const frames = splitFile(await readFile(file));
      for (const [index, frame] of frames.entries()) {
        const ack = readAck(await client.send(frame));
        const label = frames.length > 1 ? `${basename(file)}#${index + 1}` : basename(file);
        for (const one of ack.all.length > 0 ? ack.all : [{ ...ack, code: 'none' }]) {
          tally.set(one.code, (tally.get(one.code) ?? 0) + 1);
          console.log(
            `${label}  ${one.code}  ${one.controlId}${one.reason ? `  ${one.reason}` : ''}`,
          );
        }
      }
    }
  } finally {
    await client.close();
  }
  console.log([...tally].map(([code, count]) => `${code} ${count}`).join(', ') || 'nothing sent');
  return [...tally.keys()].every((code) => code === 'AA') ? 0 : 1;
}

function parseNumber(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError('expected a whole number');
  }
  return number;
}

function parseStatus(value: string): Hl7MessageStatus {
  if (!(hl7MessageStatuses as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${hl7MessageStatuses.join(', ')}`);
  }
  return value as Hl7MessageStatus;
}
