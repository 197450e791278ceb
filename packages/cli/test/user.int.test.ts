import { spawn } from 'node:child_process';

import { issueDeviceToken, signIn, validateDeviceToken } from '@medaxis/auth';
import { ensureDepartment, ensureSite } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { issueLauncherAccess } from '../src/commands/start.ts';
import { ensureDemoAccess } from '../src/demo/access.ts';

let test: TestDatabase;
const meta = { address: null, userAgent: null };

beforeAll(async () => {
  test = await createTestDatabase('cli_user');
  const site = await ensureSite(test.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  await ensureDepartment(test.db, site, { code: 'MED', name: 'Medicine', kind: 'ward' });
});

afterAll(async () => {
  await test?.drop();
});

/** Runs the real CLI, as an administrator would, with `stdin` piped in. */
function medaxis(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['medaxis', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: test.url },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(stdin);
  });
}

async function users() {
  const { rows } = await test.db.query(`SELECT username, roles, departments, active FROM app_user`);
  return rows as { username: string; roles: string[]; departments: string[]; active: boolean }[];
}

const signedIn = async (username: string, password: string) =>
  (await signIn(test.db, { username, password }, meta, new Date())).ok;

describe('medaxis user', () => {
  it('add: a user with roles and departments, the password read from stdin', async () => {
    const result = await medaxis(
      [
        'user',
        'add',
        'Nurse.Ng',
        '--role',
        'charge_nurse',
        '--department',
        'MED',
        '--password-stdin',
      ],
      'a long enough password\n',
    );

    expect(result.code).toBe(0);
    expect(result.out).toContain('added nurse.ng: charge_nurse in MED');
    expect(await users()).toContainEqual({
      username: 'nurse.ng',
      roles: ['charge_nurse'],
      departments: ['MED'],
      active: true,
    });
    expect(await signedIn('nurse.ng', 'a long enough password')).toBe(true);
    // The audit hook saw it (a log line until the audit log takes these events).
    expect(result.err).toContain('"action":"user_added"');
  });

  it('add: says a role that sees every department does, in all departments', async () => {
    const result = await medaxis(
      ['user', 'add', 'bm2', '--role', 'bed_manager', '--password-stdin'],
      'a long enough password',
    );

    expect(result.code).toBe(0);
    expect(result.out).toContain('added bm2: bed_manager in all departments');
  });

  it('add: refuses --department for bed_manager, who sees every department', async () => {
    // Fault from a first-run trial: "added bm1 (bed_manager in MED1)" while roles.json gives
    // bed_manager every department, so the administrator was told of a narrower access.
    const before = await users();

    const result = await medaxis(
      ['user', 'add', 'bm1', '--role', 'bed_manager', '--department', 'MED', '--password-stdin'],
      'a long enough password',
    );

    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'medaxis: --department cannot narrow bed_manager: config/roles.json gives it ' +
        'departmentScope "all" (every department). Leave out --department, or choose a role ' +
        'scoped to assigned departments (charge_nurse, clinician, scheduler).',
    );
    expect(await users()).toEqual(before);
  });

  it('add: states each role with its departments when roles of both scopes are given', async () => {
    const result = await medaxis(
      [
        'user',
        'add',
        'lead',
        '--role',
        'bed_manager',
        'charge_nurse',
        '--department',
        'MED',
        '--password-stdin',
      ],
      'a long enough password',
    );

    expect(result.code).toBe(0);
    expect(result.out).toContain('added lead: bed_manager in all departments, charge_nurse in MED');
  });

  it('add: refuses charge_nurse without --department, before asking for a password', async () => {
    const before = await users();

    // No --password-stdin and no terminal: the department check answers first.
    const result = await medaxis(['user', 'add', 'nurse.two', '--role', 'charge_nurse']);

    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'medaxis: charge_nurse sees only the departments assigned to the user ' +
        '(config/roles.json: departmentScope "assigned"): name them with --department <code...>.',
    );
    expect(await users()).toEqual(before);
  });

  it('add: refuses an unknown role, naming the known ones, and writes nothing', async () => {
    const before = await users();

    const result = await medaxis(
      ['user', 'add', 'someone', '--role', 'nurse', '--password-stdin'],
      'a long enough password',
    );

    expect(result.code).toBe(1);
    expect(result.err).toMatch(/medaxis: Unknown role nurse: config\/roles.json defines admin, /);
    expect(result.err).toMatch(/"outcome":"failure".*"reason":"unknown_role"/);
    expect(await users()).toEqual(before);
  });

  it('add: asks for --password-stdin when there is no terminal to prompt on', async () => {
    const result = await medaxis(['user', 'add', 'other', '--role', 'analyst']);

    expect(result.code).toBe(1);
    expect(result.err).toContain('pass it with --password-stdin');
  });

  it('help: user and user add say that without a terminal it takes --password-stdin', async () => {
    const group = await medaxis(['user', '--help']);
    const add = await medaxis(['user', 'add', '--help']);

    expect(group.out).toContain('without one (scripts,\nCI, a pipe) they need --password-stdin');
    expect(add.out).toMatch(/--password-stdin +read the password from standard input, needed/);
    expect(add.out).toContain(
      `printf '%s' "$PASSWORD" | npx medaxis user add bm1 --role bed_manager --password-stdin`,
    );
  });

  it('reset-password: the new password works, the old one and its sessions do not', async () => {
    await medaxis(
      ['user', 'add', 'clerk', '--role', 'analyst', '--password-stdin'],
      'first password!',
    );
    const session = await signIn(
      test.db,
      { username: 'clerk', password: 'first password!' },
      meta,
      new Date(),
    );

    const result = await medaxis(
      ['user', 'reset-password', 'clerk', '--password-stdin'],
      'second password!',
    );

    expect(result.out).toContain('new password set for clerk; 1 session(s) ended');
    expect(session.ok).toBe(true);
    expect(await signedIn('clerk', 'first password!')).toBe(false);
    expect(await signedIn('clerk', 'second password!')).toBe(true);
  });

  it('disable: the user can no longer sign in; an unknown user is an error', async () => {
    await medaxis(
      ['user', 'add', 'leaver', '--role', 'analyst', '--password-stdin'],
      'leaving soon!!',
    );

    const disabled = await medaxis(['user', 'disable', 'leaver']);
    const unknown = await medaxis(['user', 'disable', 'nobody']);

    expect(disabled.out).toContain('disabled leaver');
    expect(await signedIn('leaver', 'leaving soon!!')).toBe(false);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('medaxis: No user named nobody.');
  });
});

describe('npm start access', () => {
  it('creates the first admin once, and a display link for the hospital board every time', async () => {
    const fresh = await createTestDatabase('cli_access');
    try {
      const first = await ensureDemoAccess(fresh.db, 'http://localhost:4000');
      const second = await ensureDemoAccess(fresh.db, 'http://localhost:4000');

      expect(first.admin?.username).toBe('admin');
      expect(second.admin).toBeNull();
      const admin = { username: 'admin', password: first.admin!.password };
      expect((await signIn(fresh.db, admin, meta, new Date())).ok).toBe(true);
      const { rows } = await fresh.db.query(`SELECT roles FROM app_user WHERE username = 'admin'`);
      expect(rows).toEqual([{ roles: ['admin'] }]);
      for (const access of [first, second]) {
        const token = /^http:\/\/localhost:4000\/device\/([a-z2-7]{32})$/.exec(
          access.boardUrl,
        )?.[1];
        const checked = await validateDeviceToken(fresh.db, token, new Date());
        expect(checked).toMatchObject({ ok: true, device: { board: null } });
      }
    } finally {
      await fresh.drop();
    }
  });

  it('revokes unused board links of earlier starts, audited, not screens or admins', async () => {
    // Fault: every npm start issued a 30-day board link and left the earlier ones active.
    const fresh = await createTestDatabase('cli_rotate');
    const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
    const check = (token: string) => validateDeviceToken(fresh.db, token, new Date());
    try {
      // A screen was set up with the first start's link: a restart must not take it away.
      const onScreen = await issueLauncherAccess(fresh.db, 'http://localhost:4000');
      expect(await check(tokenOf(onScreen.boardUrl))).toMatchObject({ ok: true });
      const first = await issueLauncherAccess(fresh.db, 'http://localhost:4000');
      const adminId = (
        await fresh.db.query<{ id: string }>(`SELECT id FROM app_user WHERE username = 'admin'`)
      ).rows[0]!.id;
      // Same label as the launcher's: the issuer, not the label, tells an admin's display.
      const byAdmin = await issueDeviceToken(
        fresh.db,
        { label: 'Hospital board (npm start)', board: null, issuedBy: adminId },
        new Date(),
      );

      const second = await issueLauncherAccess(fresh.db, 'http://localhost:4000');
      const third = await issueLauncherAccess(fresh.db, 'http://localhost:4000');

      expect(await check(tokenOf(onScreen.boardUrl))).toMatchObject({ ok: true });
      expect(await check(tokenOf(first.boardUrl))).toMatchObject({ ok: false, reason: 'revoked' });
      expect(await check(tokenOf(second.boardUrl))).toMatchObject({ ok: false, reason: 'revoked' });
      expect(await check(tokenOf(third.boardUrl))).toMatchObject({ ok: true });
      expect(await check(byAdmin.token)).toMatchObject({ ok: true });
      const { rows } = await fresh.db.query(
        `SELECT actor_kind, actor_id, resource_id, outcome FROM audit_event
          WHERE operation = 'device_revoked' ORDER BY id`,
      );
      const revoked = [first, second].map(
        async (access) => (await check(tokenOf(access.boardUrl))).device!.id,
      );
      expect(rows).toEqual(
        (await Promise.all(revoked)).map((id) => ({
          actor_kind: 'system',
          actor_id: 'npm start',
          resource_id: id,
          outcome: 'allowed',
        })),
      );
    } finally {
      await fresh.drop();
    }
  });
});
