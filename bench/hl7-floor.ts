/**
 * The floor: a bare MLLP server that answers every frame at once with an AA for its control
 * id. Same framing code as the product (MllpDecoder), no parsing beyond finding MSH-10, no
 * database. What is left between it and the product is storing, applying, auditing and
 * streaming each message.
 */
import { createServer } from 'node:net';

import { encodeMllpFrame, MllpDecoder } from '@medaxis/interop';

if (!process.send) throw new Error('run by bench/hl7-throughput.ts');

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const decoder = new MllpDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const msh = frame.toString('latin1', 0, frame.indexOf(0x0d));
      const controlId = msh.split('|')[9] ?? '';
      const ack = `MSH|^~\\&|FLOOR||||20261203000000||ACK|F${controlId}|P|2.5\rMSA|AA|${controlId}`;
      socket.write(encodeMllpFrame(Buffer.from(ack)));
    }
  });
  socket.on('error', () => {});
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (!address || typeof address === 'string') throw new Error('floor has no port');

process.on('message', (message: { type: string }) => {
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ type: 'cpu', micros: user + system, sockets: 0 });
  }
  if (message.type === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(1));
process.send({ type: 'listening', mllpPort: address.port, httpPort: 0, audited: false });
