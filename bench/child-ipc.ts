import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

import type { ClientsReport, ServerReport, ServerRequest, ServerStatus } from './protocol.ts';

export function sendToDriver(report: ServerReport | ClientsReport): void {
  if (!process.send) throw new Error('run by bench/board-latency.ts, not on its own');
  process.send(report);
}

/**
 * Answers the driver's requests to a server child: status, a CPU profile of a chosen window
 * (the measured rounds, not start-up), stop. Exits when the driver goes away, since nobody
 * would stop the child then.
 */
export function serveDriver(subscribers: () => number, stop: () => Promise<void>): void {
  const inspector = new Session();
  const handle = async (request: ServerRequest) => {
    switch (request.type) {
      case 'status':
        sendToDriver(statusOf(subscribers(), request.collect));
        return;
      case 'profile-start':
        inspector.connect();
        await inspector.post('Profiler.enable');
        await inspector.post('Profiler.start');
        return;
      case 'profile-stop': {
        const { profile } = await inspector.post('Profiler.stop');
        writeFileSync(request.file, JSON.stringify(profile));
        inspector.disconnect();
        sendToDriver({ type: 'profiled', file: request.file });
        return;
      }
      case 'stop':
        await stop();
        process.exit(0);
    }
  };
  process.on('message', (request: ServerRequest) => {
    handle(request).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
  process.on('disconnect', () => process.exit(1));
}

/**
 * With `collect`, memory after a full collection (the child runs with --expose-gc), so that
 * samples compare; without, a CPU reading that no collection of ours inflates.
 */
function statusOf(subscribers: number, collect: boolean): ServerStatus {
  if (collect) {
    globalThis.gc?.();
    globalThis.gc?.();
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    type: 'status',
    memory: { rss, heapUsed, heapTotal, external, arrayBuffers },
    cpuMicros: cpu.user + cpu.system,
    subscribers,
  };
}
