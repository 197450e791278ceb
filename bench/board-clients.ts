/**
 * A share of the boards, in one process. Floor and stream boards are plain `ws` sockets that
 * parse each frame's JSON, as the web board does on /board-stream; tRPC boards are tRPC
 * clients (`createWSClient` + `wsLink`, one connection each, subscribed to `board.events`).
 * All stamp each event on arrival in the application callback, after JSON parsing, and report
 * per event the arrival at each of their boards.
 */
import type { AppRouter, BoardStreamFrame } from '@medaxis/api';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';

import { sendToDriver } from './child-ipc.ts';
import type { ClientsConfig, ClientsRequest } from './protocol.ts';

const connectBatch = 50;

const config = JSON.parse(process.argv[2] ?? '{}') as ClientsConfig;
const pending = new Map<string, { first: bigint; afterFirstUs: number[] }>();
const completed = new Set<string>();
const closers: (() => void)[] = [];
let stopping = false;

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

function connectTrpcBoard(): Promise<void> {
  const headers = config.cookie ? { cookie: config.cookie } : {};
  // tRPC's client constructs the socket itself; this subclass adds the display's cookie.
  class DisplaySocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const wsClient = createWSClient({
    url: config.url,
    WebSocket: DisplaySocket as unknown as typeof globalThis.WebSocket,
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

/** A floor or board-stream socket: the same client code for both, only the server differs. */
function connectPlainBoard(): Promise<void> {
  const url = new URL(config.url);
  if (config.mode === 'stream') url.searchParams.set('lastEventId', config.lastEventId);
  const headers = config.cookie ? { cookie: config.cookie } : {};
  const socket = new WebSocket(url, { perMessageDeflate: false, headers });
  let last = BigInt(config.lastEventId);
  socket.on('message', (data: Buffer) => {
    // Parsed whole, as a board does, so every path pays for it.
    const frame = JSON.parse(data.toString()) as BoardStreamFrame;
    const at = process.hrtime.bigint();
    if (frame.kind !== 'event') return;
    if (config.mode === 'stream') {
      const id = BigInt(frame.id);
      if (id <= last) fail(`board got event ${id} after ${last}`);
      last = id;
    }
    arrived(frame.id, at);
  });
  socket.on('error', (error) => fail(`socket failed: ${error.message}`));
  socket.on('close', (code, reason) => {
    if (!stopping) fail(`socket closed: ${code} ${reason.toString()}`);
  });
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
  stopping = true;
  for (const close of closers) close();
  setTimeout(() => process.exit(0), 200).unref();
});
process.on('disconnect', () => process.exit(1));

const connect = config.mode === 'trpc' ? connectTrpcBoard : connectPlainBoard;
for (let opened = 0; opened < config.boards; opened += connectBatch) {
  const batch = Math.min(connectBatch, config.boards - opened);
  await Promise.all(Array.from({ length: batch }, connect));
}
sendToDriver({ type: 'ready' });
