/**
 * Wall boards on the board stream (/board-stream), in their own process: each counts the
 * events it is sent and checks they come in id order, once. Reports on request.
 */
import WebSocket from 'ws';

const [url, lastEventId, countText, deviceToken] = process.argv.slice(2);
if (!url || !lastEventId || !countText || !deviceToken || !process.send) {
  throw new Error('run by the bench');
}
const headers = { cookie: `medaxis_device=${deviceToken}` };

const boards = Number(countText);
const received = Array.from({ length: boards }, () => 0);
const last = Array.from({ length: boards }, () => BigInt(lastEventId));
let failure: string | undefined;

await Promise.all(
  Array.from({ length: boards }, (_, board) => {
    const target = new URL(url);
    target.searchParams.set('lastEventId', lastEventId);
    const socket = new WebSocket(target, { perMessageDeflate: false, headers });
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { kind: string; id?: string };
      if (frame.kind !== 'event' || frame.id === undefined) return;
      const id = BigInt(frame.id);
      if (id <= last[board]!) failure ??= `board ${board} got event ${id} after ${last[board]}`;
      last[board] = id;
      received[board]! += 1;
    });
    socket.on('close', () => (failure ??= `board ${board} closed`));
    return new Promise((resolve) => socket.once('open', resolve));
  }),
);

process.on('message', (message: { type: string }) => {
  if (message.type === 'report') {
    process.send!({
      type: 'report',
      received,
      lastIds: last.map(String),
      failure: failure ?? null,
    });
  }
  if (message.type === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(1));
process.send({ type: 'ready' });
