/**
 * A share of the boards, in one process: product boards are tRPC clients (`createWSClient` +
 * `wsLink`, one connection each, subscribed to `board.events` as the web board is); floor
 * boards are plain `ws` sockets. Both stamp each event on arrival in the application callback,
 * after JSON parsing, and report per event the arrival at each of their boards.
 */
import type { AppRouter } from '@medaxis/api';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';

import { sendToDriver } from './child-ipc.ts';
import type { ClientsConfig, ClientsRequest } from './protocol.ts';

const connectBatch = 50;

const config = JSON.parse(process.argv[2] ?? '{}') as ClientsConfig;
const pending = new Map<string, { first: bigint; afterFirstUs: number[] }>();
const completed = new Set<string>();
const closers: (() => void)[] = [];

function fail(message: string): never {
  sendToDriver({ type: 'failed', message });
  process.exit(1);
}

/** One arrival of event `key` at one board; the round's report goes once all boards have it. */
function arrived(key: string, at: bigint) {
  if (completed.has(key)) fail(`event ${key} delivered twice to a board`);
  let round = pending.get(key);
  if (!round) {
    round = { first: at, afterFirstUs: [] };
    pending.set(key, round);
  }
  round.afterFirstUs.push(Number(at - round.first) / 1e3);
  if (round.afterFirstUs.length < config.boards) return;
  pending.delete(key);
  completed.add(key);
  sendToDriver({
    type: 'round',
    key,
    firstNs: round.first.toString(),
    afterFirstUs: round.afterFirstUs,
  });
}

function connectProductBoard(): Promise<void> {
  const wsClient = createWSClient({
    url: config.url,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: () => 1_000,
  });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  let last = BigInt(config.lastEventId);
  return new Promise((resolve) => {
    const subscription = api.board.events.subscribe(
      { lastEventId: config.lastEventId },
      {
        onStarted: () => resolve(),
        onData: (value) => {
          const at = process.hrtime.bigint();
          // Events come tracked ({ id, data }); heartbeats come bare.
          if (!('data' in value) || value.data.kind !== 'event') return;
          const id = BigInt(value.id);
          if (id <= last) fail(`board got event ${id} after ${last}`);
          last = id;
          arrived(value.id, at);
        },
        onError: (error) => fail(`subscription failed: ${error.message}`),
      },
    );
    closers.push(() => {
      subscription.unsubscribe();
      void wsClient.close();
    });
  });
}

function connectFloorBoard(): Promise<void> {
  const socket = new WebSocket(config.url, { perMessageDeflate: false });
  socket.on('message', (data: Buffer) => {
    // Parsed as the tRPC client parses every frame, so both paths pay for it.
    const message = JSON.parse(data.toString()) as { result: { id: string } };
    arrived(message.result.id, process.hrtime.bigint());
  });
  socket.on('error', (error) => fail(`socket failed: ${error.message}`));
  closers.push(() => socket.terminate());
  return new Promise((resolve) => socket.once('open', () => resolve()));
}

process.on('message', (request: ClientsRequest) => {
  if (request.type === 'clock') {
    sendToDriver({ type: 'clock', clientNs: process.hrtime.bigint().toString() });
    return;
  }
  if (request.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    sendToDriver({ type: 'cpu', cpuMicros: user + system });
    return;
  }
  for (const close of closers) close();
  setTimeout(() => process.exit(0), 200).unref();
});
process.on('disconnect', () => process.exit(1));

const connect = config.mode === 'product' ? connectProductBoard : connectFloorBoard;
for (let opened = 0; opened < config.boards; opened += connectBatch) {
  const batch = Math.min(connectBatch, config.boards - opened);
  await Promise.all(Array.from({ length: batch }, connect));
}
sendToDriver({ type: 'ready' });
