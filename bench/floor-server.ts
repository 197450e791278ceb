/**
 * The floor: the least any server of the same shape can do. One LISTEN connection; on each
 * notification, one JSON encoding of a frame shaped and sized like the product's board event
 * (the notification's text stands in for the event id) and the same bytes written to every
 * client with plain `ws`. No database read, no per-client work beyond the send.
 */
import { createDb } from '@medaxis/db';
import { WebSocketServer } from 'ws';

import { sendToDriver, serveDriver } from './child-ipc.ts';

const [databaseUrl, channel, eventJson] = process.argv.slice(2);
if (!databaseUrl || !channel || !eventJson) {
  throw new Error('usage: floor-server.ts <database url> <channel> <board event json>');
}
const event = JSON.parse(eventJson) as Record<string, unknown>;

const db = createDb(databaseUrl, { max: 1 });
const listener = await db.connect();
await listener.query(`LISTEN ${channel}`);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
await new Promise<void>((resolve) => wss.once('listening', resolve));
const address = wss.address();
if (!address || typeof address === 'string') throw new Error('server has no port');

listener.on('notification', ({ payload }) => {
  const id = payload ?? '';
  // The board stream's frame (BoardStreamFrame), so the sizes match the product's.
  const frame = Buffer.from(JSON.stringify({ kind: 'event', id, event: { ...event, id } }));
  for (const client of wss.clients) client.send(frame, { binary: false });
});

serveDriver(
  () => wss.clients.size,
  async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    listener.release();
    await db.end();
  },
);
sendToDriver({ type: 'listening', port: address.port });
