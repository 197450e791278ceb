import { Writable } from 'node:stream';

import { createTestDatabase, type TestDatabase } from '@medaxis/db/testing';
import { MllpClient, readAck, type Hl7AuditSink } from '@medaxis/interop';
import { createLogger, startMllpListener, type MllpListener } from '@medaxis/server';

import { seedSmallHospital, type SmallHospital } from '../../support/fixtures.ts';

export interface Hl7Stack {
  database: TestDatabase;
  hospital: SmallHospital;
  listener: MllpListener;
  logs: string[];
  /** A new MLLP connection to the listener. */
  connect(): Promise<MllpClient>;
  /** Sends one message on a fresh connection and reads its ACK. */
  send(message: string | Buffer): Promise<ReturnType<typeof readAck>>;
  stop(): Promise<void>;
}

/** The MLLP listener on a real socket over a test database holding the small hospital. */
export async function startHl7Stack(
  options: { seed?: boolean; audit?: Hl7AuditSink } = {},
): Promise<Hl7Stack> {
  const database = await createTestDatabase('hl7');
  const hospital =
    options.seed === false ? { departments: {}, beds: {} } : await seedSmallHospital(database.db);
  const logs: string[] = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const listener = await startMllpListener({
    db: database.db,
    port: 0,
    host: '127.0.0.1',
    log,
    recoveryIntervalMs: 0,
    processor: { audit: options.audit },
  });
  const clients = new Set<MllpClient>();
  const connect = async () => {
    const client = await MllpClient.connect({ host: '127.0.0.1', port: listener.port });
    clients.add(client);
    return client;
  };
  return {
    database,
    hospital,
    listener,
    logs,
    connect,
    async send(message) {
      const client = await connect();
      try {
        return readAck(await client.send(Buffer.from(message)));
      } finally {
        await client.close();
        clients.delete(client);
      }
    },
    async stop() {
      for (const client of clients) client.destroy();
      await listener.close();
      await database.drop();
    },
  };
}

export interface AdtInput {
  event: string;
  controlId: string;
  /** Event time, written as EVN-2 in UTC. */
  at: Date;
  mrn: string;
  visit: string;
  /** A bed code of the small hospital (MED-01-A), written as PV1-3 MED^01^A. */
  bed?: string;
  patientClass?: string;
  facility?: string;
}

/** An ADT message as a hospital's system would write it (CR separators). */
export function adt(input: AdtInput): string {
  const [unit = '', room = '', bed = ''] = (input.bed ?? '').split('-');
  const time = hl7Time(input.at);
  return [
    `MSH|^~\\&|PAS|${input.facility ?? 'NGH'}|MEDAXIS|NGH|${time}||ADT^${input.event}^ADT_A01|${input.controlId}|P|2.5`,
    `EVN|${input.event}|${time}`,
    `PID|1||${input.mrn}^^^NGH^MR||Doe^Jane||19800101|F`,
    `PV1|1|${input.patientClass ?? 'I'}|${unit}^${room}^${bed}||||||||||||||||${input.visit}`,
  ].join('\r');
}

export function hl7Time(at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}
