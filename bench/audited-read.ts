/**
 * An audited patient read against the same read without audit, in one run: requests/s and
 * p99 of tRPC `patients.get` over HTTP, signed in as a bed manager, from a server that
 * commits the read's audit row before it replies, and from the same server whose audit sink
 * records nothing (the floor). The two take turns in blocks, so changing load falls on both.
 *
 *   npm run bench:audited-read -- [--connections 32] [--block-seconds 5] [--blocks 3]
 *
 * Target (issue "Security, consent and audit"): audited at least 0.8× the unaudited
 * requests/s. Checks: every reply is 200, and the audited server wrote exactly one audit row
 * per audited request.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { addUser, createSession } from '@medaxis/auth';
import { ensureEncounter, ensurePatient, executeCommand } from '@medaxis/db';
import { createTestDatabase, repoRoot } from '@medaxis/db/testing';
import { liveCommandOptions } from '@medaxis/domain';
import { loadRoles } from '@medaxis/policy';
import autocannon from 'autocannon';

import { seedSmallHospital } from '../tests/support/fixtures.ts';

const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    'block-seconds': { type: 'string', default: '5' },
    blocks: { type: 'string', default: '3' },
  },
});
const connections = Number(flags.connections);
const blockSeconds = Number(flags['block-seconds']);
const blocks = Number(flags.blocks);

interface Block {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function load(url: string, cookie: string): Promise<Block> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: blockSeconds,
        headers: { cookie, 'x-purpose-of-use': 'treatment' },
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        resolve({
          requests: result.requests.total,
          perSecond: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
        });
      },
    );
  });
}

const rangeOf = (values: number[]) =>
  `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function run() {
  const loadBefore = loadavg()[0]!;
  const test = await createTestDatabase('bench_audited_read');
  const server = fork(join(import.meta.dirname, 'audited-read-server.ts'), [test.url], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const hospital = await seedSmallHospital(test.db);
    const patientId = await ensurePatient(test.db, {
      mrn: 'BENCH-0001',
      authority: 'MEDAXIS',
      familyName: 'Bench',
      givenName: 'Patient',
      birthDate: '1960-05-01',
      sex: 'F',
    });
    const encounterId = await ensureEncounter(test.db, { patientId, class: 'inpatient' });
    const at = new Date();
    await executeCommand(
      test.db,
      { type: 'admit', encounterId, bedId: hospital.beds['MED-01-A']!, at },
      { source: 'bench', options: liveCommandOptions(at) },
    );
    const roles = loadRoles(join(repoRoot, 'config/roles.json'));
    const user = await addUser(test.db, roles, {
      username: 'bench-bed-manager',
      password: 'bench password, not a secret',
      roles: ['bed_manager'],
    });
    const { token } = await createSession(
      test.db,
      user.id,
      { address: '127.0.0.1', userAgent: 'autocannon' },
      new Date(),
    );
    const cookie = `medaxis_session=${token}`;

    const [ports] = (await once(server, 'message')) as [{ audited: number; unaudited: number }];
    const input = encodeURIComponent(JSON.stringify({ id: patientId }));
    const path = `/trpc/patients.get?input=${input}`;
    const audited = `http://127.0.0.1:${ports.audited}${path}`;
    const unaudited = `http://127.0.0.1:${ports.unaudited}${path}`;

    const countRows = async () => {
      const { rows } = await test.db.query<{ count: string }>(
        `SELECT count(*) FROM audit_event WHERE operation = 'patients.get'`,
      );
      return Number(rows[0]!.count);
    };

    // Warm both (JIT, pools, the session cache) before anything is measured.
    await load(audited, cookie);
    await load(unaudited, cookie);

    const results = { audited: [] as Block[], unaudited: [] as Block[] };
    let auditedRequests = 0;
    const rowsBefore = await countRows();
    for (let block = 0; block < blocks; block++) {
      const withAudit = await load(audited, cookie);
      results.audited.push(withAudit);
      auditedRequests += withAudit.requests;
      results.unaudited.push(await load(unaudited, cookie));
    }
    const rowsWritten = (await countRows()) - rowsBefore;

    const failed = [...results.audited, ...results.unaudited].some(
      (block) => block.non2xx > 0 || block.errors > 0,
    );
    if (failed) throw new Error(`some requests failed: ${JSON.stringify(results)}`);
    // autocannon counts replies; requests cut off at the end of a block are not among them.
    if (rowsWritten < auditedRequests) {
      throw new Error(`${auditedRequests} audited replies but ${rowsWritten} audit rows`);
    }

    const summary = (list: Block[]) => ({
      perSecond: median(list.map((block) => block.perSecond)),
      p50: median(list.map((block) => block.p50)),
      p99: median(list.map((block) => block.p99)),
      range: rangeOf(list.map((block) => block.perSecond)),
    });
    const withAudit = summary(results.audited);
    const without = summary(results.unaudited);
    const ratio = withAudit.perSecond / without.perSecond;

    const row = (name: string, path: ReturnType<typeof summary>) =>
      `| ${name} | ${path.perSecond.toFixed(0)} | ${path.range} | ${path.p50} | ${path.p99} |`;
    const verdict = ratio >= 0.8 ? 'met' : 'MISSED';
    const lines = [
      `## Audited patient read against the same read without audit`,
      '',
      `- date: ${new Date().toISOString()}; ` +
        `load (1 min) ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
      `- ${connections} connections, ${blocks} blocks of ${blockSeconds} s per path, ` +
        `taking turns; medians over the blocks`,
      '',
      `| path | requests/s | range over blocks | p50 ms | p99 ms |`,
      `|---|---:|---:|---:|---:|`,
      row('floor: patients.get, audit sink records nothing', without),
      row('patients.get, audit row committed before the reply', withAudit),
      '',
      `- audited / unaudited requests/s: ${ratio.toFixed(2)}× (target ≥ 0.8×: ${verdict}); ` +
        `p99 ${(withAudit.p99 / without.p99).toFixed(2)}×`,
      `- audit rows written: ${rowsWritten} for ${auditedRequests} audited replies`,
    ];
    console.log(lines.join('\n'));
  } finally {
    server.kill();
    await test.drop();
  }
}

await run();
