import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { auditAuthEvent, revokeDevice } from '@medaxis/auth';
import { listDeviceTokens, type Db } from '@medaxis/db';
import { InvalidArgumentError, type Command } from 'commander';

import { openDatabase, repoRoot } from '../context.ts';
import type { HostMessage } from '../embedded-host.ts';
import { loadHospitalConfig, type HospitalConfig } from '../hospital-config.ts';
import { ensureDemoAccess, launcherDisplay, type DemoAccess } from '../demo/access.ts';
import { ensureDemoHospital } from './seed.ts';
import { startSimulator } from './simulate.ts';

interface StartOptions {
  simulate: boolean;
  port: number;
}

interface Service {
  name: 'server' | 'worker';
  child: ChildProcess;
  exited: Promise<void>;
}

const say = (message: string) => process.stdout.write(`medaxis: ${message}\n`);

/** A timer for races against exits: it must not keep the launcher alive once all has ended. */
const delay = <T>(ms: number, value?: T) => sleep(ms, value, { ref: false });

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run MedAxis on this machine: the database (embedded PostgreSQL in .medaxis/ unless ' +
        'DATABASE_URL is set), the demo hospital on first run, the server, the worker and ' +
        'the ADT simulator',
    )
    .option('--no-simulate', 'run without the ADT simulator')
    .option('--port <n>', 'HTTP port of the server', parsePort, 4000)
    .action(async (options: StartOptions) => {
      process.exitCode = await start(options);
    });
}

/**
 * Starts everything, then waits for Ctrl-C (SIGINT), SIGTERM or SIGHUP and stops it all in
 * reverse order: simulator, server and worker, the database connections, then the embedded
 * database if this launcher started it. A service that dies on its own stops the rest too.
 */
async function start(options: StartOptions): Promise<number> {
  const stop = stopSignal();
  const cleanups: (() => Promise<void>)[] = [];
  let exitCode = 0;
  try {
    if (!process.env.DATABASE_URL) {
      const host = await startDatabaseHost();
      cleanups.push(host.stop);
    }
    const database = await openDatabase({ log: say });
    cleanups.push(() => database.close());
    const config = loadHospitalConfig();
    await ensureDemoHospital(database.db, config, say);
    const access = await issueLauncherAccess(database.db, `http://localhost:${options.port}`);
    if (stop.received) return 0;

    await assertPortFree(options.port);
    const mllpPort = await chooseMllpPort();
    const services = (['server', 'worker'] as const).map((name) =>
      startService(name, {
        DATABASE_URL: database.url,
        PORT: String(options.port),
        MLLP_PORT: String(mllpPort),
      }),
    );
    cleanups.push(() => stopServices(services, stop.received));
    const serviceDied = Promise.race(
      services.map((service) => service.exited.then(() => service.name)),
    );

    const up = await Promise.race([
      waitForHealth(options.port).then(() => 'up' as const),
      serviceDied,
      stop.promise,
    ]);
    if (up !== 'up') {
      if (up === 'server' || up === 'worker') throw new Error(`the ${up} exited while starting`);
      return 0;
    }

    if (options.simulate) {
      const simulator = startSimulator(database.db, config);
      cleanups.push(() => simulator.stop());
    }
    printWelcome(options, database.url, config, mllpPort, access);

    const ended = await Promise.race([serviceDied, stop.promise]);
    if (ended === 'server' || ended === 'worker') {
      say(`the ${ended} exited: stopping everything`);
      exitCode = 1;
    }
    return exitCode;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => say(`while stopping: ${String(error)}`));
    }
    stop.dispose();
    if (cleanups.length > 0) say('stopped');
  }
}

// ---- the launcher's board link -------------------------------------------------------------

const launcherActor = { kind: 'system' as const, id: 'npm start' };

/**
 * The first admin and a fresh board link, as ensureDemoAccess makes them, after revoking the
 * links earlier starts issued that no screen ever used: each start prints a new link (only
 * the token's hash is kept, so an old one cannot be shown again), and the unused ones would
 * otherwise stay valid for their 30 days. A link a screen was set up with is left alone: a
 * wall display must survive the launcher's restart. Displays an admin issued are left alone.
 * Each revocation goes through revokeDevice and the audit hook, as a Revoke on /admin/devices.
 */
export async function issueLauncherAccess(db: Db, origin: string): Promise<DemoAccess> {
  const now = new Date();
  const earlier = (await listDeviceTokens(db)).filter(
    (device) =>
      device.label === launcherDisplay.label &&
      device.issuedBy === launcherDisplay.issuedBy &&
      device.revokedAt === null &&
      device.lastSeenAt === null &&
      device.expiresAt > now,
  );
  for (const device of earlier) {
    await revokeDevice(db, device.id, now);
    await auditAuthEvent(db, {
      action: 'device_revoked',
      outcome: 'success',
      actor: launcherActor,
      target: device.id,
    });
  }

  return ensureDemoAccess(db, origin);
}

const stopSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Resolves on the first SIGINT, SIGTERM or SIGHUP (terminal closed). Later ones are ignored:
 * under `npm start` a single Ctrl-C arrives twice (from the terminal, and forwarded by npm and
 * tsx), and the stop sequence has its own time limits.
 */
function stopSignal() {
  let resolve!: (signal: NodeJS.Signals) => void;
  const promise = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const state = {
    promise,
    received: undefined as NodeJS.Signals | undefined,
    dispose: () => {
      for (const signal of stopSignals) process.off(signal, onSignal);
    },
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.received) return;
    state.received = signal;
    // Whatever is starting (a first seed takes seconds) finishes before the stop.
    say(`${signal}: stopping`);
    resolve(signal);
  };
  for (const signal of stopSignals) process.on(signal, onSignal);
  return state;
}

// ---- embedded database ---------------------------------------------------------------------

async function startDatabaseHost(): Promise<{ stop: () => Promise<void> }> {
  const host = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'packages/cli/src/embedded-host.ts')],
    { cwd: repoRoot, detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const exited = once(host, 'exit').then(() => {});
  const ready = await new Promise<Extract<HostMessage, { kind: 'ready' }>>((resolve, reject) => {
    host.on('message', (message: HostMessage) => {
      if (message.kind === 'log') say(message.message);
      else if (message.kind === 'ready') resolve(message);
      else reject(new Error(`embedded PostgreSQL: ${message.message}`));
    });
    void exited.then(() => reject(new Error('embedded PostgreSQL host exited while starting')));
  });
  say(
    ready.embedded
      ? 'embedded PostgreSQL started (data in .medaxis/postgres)'
      : 'using the embedded PostgreSQL another medaxis process started',
  );

  return {
    stop: async () => {
      if (host.connected) host.disconnect();
      const stopped = await Promise.race([exited.then(() => true), delay(15_000, false)]);
      if (!stopped) say('embedded PostgreSQL did not stop within 15 s; it may still run');
    },
  };
}

// ---- server and worker ---------------------------------------------------------------------

function startService(name: Service['name'], env: Record<string, string>): Service {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'apps', name, 'src', 'main.ts')],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = once(child, 'exit').then(() => {});
  return { name, child, exited };
}

/**
 * Stops the services. A Ctrl-C in the terminal has already reached them (they share the
 * terminal's process group), so they get a moment to stop on their own before SIGTERM: a
 * service that handles its first signal with `once` must not get a second one.
 */
async function stopServices(services: Service[], signal: NodeJS.Signals | undefined) {
  const running = () => services.filter((s) => s.child.exitCode === null && !s.child.signalCode);
  const allExited = Promise.all(services.map((s) => s.exited));

  if (signal === 'SIGINT' || signal === 'SIGHUP') await Promise.race([allExited, delay(2_000)]);
  for (const service of running()) service.child.kill('SIGTERM');
  await Promise.race([allExited, delay(10_000)]);
  for (const service of running()) {
    say(`the ${service.name} did not stop within 10 s: killing it`);
    service.child.kill('SIGKILL');
  }
  await allExited;
}

async function assertPortFree(port: number) {
  if (await portInUse(port)) {
    throw new Error(`port ${port} is in use (another medaxis start?); choose one with --port`);
  }
}

/**
 * The HL7 listener's port (MLLP_PORT, default 2575; 0 turns it off). A second `medaxis start`
 * on this machine finds it taken: that one runs without the listener rather than not at all.
 */
async function chooseMllpPort(): Promise<number> {
  const port = Number(process.env.MLLP_PORT ?? 2575);
  if (port === 0 || !(await portInUse(port))) return port;
  say(`MLLP port ${port} is in use: the HL7 listener stays off (set MLLP_PORT to move it)`);
  return 0;
}

async function portInUse(port: number) {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForHealth(port: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const healthy = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(1_000),
    }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await sleep(250);
  }
  throw new Error(`the server did not answer /healthz on port ${port} within ${timeoutMs} ms`);
}

// ---- output --------------------------------------------------------------------------------

function printWelcome(
  options: StartOptions,
  databaseUrl: string,
  config: HospitalConfig,
  mllpPort: number,
  access: DemoAccess,
) {
  const base = `http://localhost:${options.port}`;
  const ward = config.departments.find((d) => d.kind === 'ward') ?? config.departments[0];
  const lines = [
    '',
    `  MedAxis is running: ${config.site.name}`,
    '',
    `  Bed board     ${access.boardUrl}`,
    '                (sets this browser up as a display of the hospital board, no sign-in)',
    `  One ward      ${base}/board/${ward?.code ?? ''}`,
    `  Sign in       ${base}/login`,
    `  API (tRPC)    ${base}/trpc`,
    `  Health        ${base}/healthz   ${base}/readyz`,
    mllpPort === 0
      ? '  HL7 (MLLP)    off'
      : `  HL7 (MLLP)    localhost:${mllpPort}   (npx medaxis hl7 send <file|dir>)`,
    `  Database      ${redactPassword(databaseUrl)}`,
    options.simulate
      ? '  Simulator     on: an ADT or housekeeping event every 1–4 s (--no-simulate: off)'
      : '  Simulator     off',
    ...(access.admin
      ? [
          '',
          `  First admin   ${access.admin.username} / ${access.admin.password}`,
          '                shown this once: note it (new one: npx medaxis user reset-password admin)',
        ]
      : []),
    '',
    '  Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function redactPassword(url: string) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  }
  return port;
}
