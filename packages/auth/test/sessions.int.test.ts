import { ensureDepartment, ensureSite } from '@medaxis/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@medaxis/db/testing';
import { departmentScope, loadRoles, type Roles } from '@medaxis/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addUser,
  changePassword,
  createSession,
  disableUser,
  generateToken,
  issueDeviceToken,
  resetPassword,
  resolveActor,
  revokeDevice,
  signIn,
  tokenId,
  validateDeviceToken,
  validateSessionToken,
  type SessionPolicy,
} from '../src/index.ts';

let database: TestDatabase;
let roles: Roles;
const meta = { address: '10.0.0.7', userAgent: 'vitest' };
const policy: SessionPolicy = {
  idleTimeoutMs: 60 * 60_000,
  maxLifetimeMs: 4 * 60 * 60_000,
  touchIntervalMs: 60_000,
};
const t0 = new Date('2026-12-03T08:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
let counter = 0;

beforeAll(async () => {
  database = await createTestDatabase('auth');
  roles = loadRoles(`${repoRoot}/config/roles.json`);
  const site = await ensureSite(database.db, { code: 'T', name: 'Test', timeZone: 'UTC' });
  await ensureDepartment(database.db, site, { code: 'ICU', name: 'ICU', kind: 'icu' });
  await ensureDepartment(database.db, site, { code: 'MED', name: 'Medicine', kind: 'ward' });
});

afterAll(async () => {
  await database?.drop();
});

async function newUser(role = 'bed_manager', departments: string[] = []) {
  counter += 1;
  const username = `user${counter}`;
  const password = `password-${counter}-long`;
  const user = await addUser(database.db, roles, {
    username,
    password,
    roles: [role],
    departments,
  });
  return { user, username, password };
}

async function userCount() {
  const { rows } = await database.db.query(`SELECT count(*)::int AS n FROM app_user`);
  return rows[0].n as number;
}

describe('adding users', () => {
  it('stores a lower-case username, the roles and an argon2id hash, never the password', async () => {
    const user = await addUser(database.db, roles, {
      username: '  Nurse.Jones ',
      password: 'a long enough password',
      roles: ['charge_nurse'],
      departments: ['ICU'],
    });

    expect(user).toMatchObject({
      username: 'nurse.jones',
      roles: ['charge_nurse'],
      departments: ['ICU'],
      active: true,
    });
    const { rows } = await database.db.query(`SELECT password_hash FROM app_user WHERE id = $1`, [
      user.id,
    ]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
  });

  it.each([
    [['nurse'], [], 'unknown_role'],
    [['bed_manager', 'superuser'], [], 'unknown_role'],
    [['system'], [], 'role_not_for_people'],
    [['wall_display'], [], 'role_not_for_people'],
    [[], [], 'role_required'],
    [['charge_nurse'], [], 'departments_required'],
    // Reported: a bed manager "in MED1" was stored so, and saw the whole hospital.
    [['bed_manager'], ['MED'], 'departments_not_applicable'],
    [['charge_nurse'], ['NOPE'], 'unknown_department'],
  ])('refuses roles %j with departments %j (%s), writing nothing', async (wanted, depts, why) => {
    const before = await userCount();

    const attempt = addUser(database.db, roles, {
      username: 'refused',
      password: 'a long enough password',
      roles: wanted,
      departments: depts,
    });

    await expect(attempt).rejects.toMatchObject({ code: 'VALIDATION', reason: why });
    expect(await userCount()).toBe(before);
  });

  it('names the roles config/roles.json defines when refusing an unknown one', async () => {
    await expect(
      addUser(database.db, roles, { username: 'x1', password: 'long enough pw', roles: ['nurse'] }),
    ).rejects.toThrow(/Unknown role nurse: config\/roles.json defines admin, bed_manager/);
  });

  it('refuses a username taken in another case', async () => {
    const { username } = await newUser();
    await expect(
      addUser(database.db, roles, {
        username: username.toUpperCase(),
        password: 'a long enough password',
        roles: ['analyst'],
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', reason: 'username_taken' });
  });
});

describe('signing in', () => {
  it('opens a session whose id is the hash of the token handed out', async () => {
    const { username, password, user } = await newUser();

    const result = await signIn(database.db, { username, password }, meta, t0, policy);

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.session.id).toBe(tokenId(result.token));
    expect(result.session.expiresAt).toEqual(at(60));
    const { rows } = await database.db.query(`SELECT * FROM session WHERE user_id = $1`, [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].address).toBe('10.0.0.7');
    expect(JSON.stringify(rows)).not.toContain(result.token);
  });

  it('says why it refused (for the log), and opens no session', async () => {
    const { username, password } = await newUser();
    const sessions = async () =>
      (await database.db.query(`SELECT count(*)::int AS n FROM session`)).rows[0].n as number;
    const before = await sessions();

    const wrong = await signIn(database.db, { username, password: 'nope' }, meta, t0, policy);
    const unknown = await signIn(database.db, { username: 'ghost', password }, meta, t0, policy);
    await disableUser(database.db, username);
    const disabled = await signIn(database.db, { username, password }, meta, t0, policy);

    expect([wrong, unknown, disabled].map((r) => !r.ok && r.reason)).toEqual([
      'wrong_password',
      'unknown_user',
      'user_disabled',
    ]);
    expect(await sessions()).toBe(before);
  });
});

describe('sessions', () => {
  async function session() {
    const { user } = await newUser();
    return { user, ...(await createSession(database.db, user.id, meta, t0, policy)) };
  }

  it('slide: each use (at most once a minute) moves the expiry an idle timeout ahead', async () => {
    const { token } = await session();

    const early = await validateSessionToken(database.db, token, at(0.5), policy);
    const later = await validateSessionToken(database.db, token, at(50), policy);
    const muchLater = await validateSessionToken(database.db, token, at(105), policy);

    expect(early).toMatchObject({ ok: true, refreshed: false });
    expect(later).toMatchObject({ ok: true, refreshed: true, session: { expiresAt: at(110) } });
    expect(muchLater).toMatchObject({ ok: true, session: { expiresAt: at(165) } });
  });

  it('expire after the idle timeout, and are deleted when seen expired', async () => {
    const { token, session: row } = await session();

    const result = await validateSessionToken(database.db, token, at(60), policy);

    expect(result).toEqual({ ok: false, reason: 'expired' });
    const { rowCount } = await database.db.query(`SELECT 1 FROM session WHERE id = $1`, [row.id]);
    expect(rowCount).toBe(0);
  });

  it('end at the maximum lifetime however busy they are', async () => {
    const { token } = await session();

    for (let minute = 30; minute < 240; minute += 30) {
      expect(await validateSessionToken(database.db, token, at(minute), policy)).toMatchObject({
        ok: true,
      });
    }
    const last = await validateSessionToken(database.db, token, at(239), policy);
    expect(last).toMatchObject({ ok: true, session: { expiresAt: at(240) } });
    expect(await validateSessionToken(database.db, token, at(240), policy)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuse forged and malformed tokens', async () => {
    expect(await validateSessionToken(database.db, generateToken(), t0, policy)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    for (const bad of ['', 'x', "' OR 1=1 --", 'A'.repeat(32), null]) {
      expect(await validateSessionToken(database.db, bad, t0, policy)).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('all end when the user is disabled', async () => {
    const { user } = await newUser();
    const first = await createSession(database.db, user.id, meta, t0, policy);
    const second = await createSession(database.db, user.id, meta, t0, policy);

    const { sessionsEnded } = await disableUser(database.db, user.username);

    expect(sessionsEnded).toBe(2);
    for (const { token } of [first, second]) {
      expect(await validateSessionToken(database.db, token, at(1), policy)).toEqual({
        ok: false,
        reason: 'unknown',
      });
    }
  });

  it('all end when an administrator resets the password', async () => {
    const { user, username } = await newUser();
    const { token } = await createSession(database.db, user.id, meta, t0, policy);

    await resetPassword(database.db, username, 'the new long password', at(1));

    expect(await validateSessionToken(database.db, token, at(2), policy)).toMatchObject({
      ok: false,
    });
    const old = await signIn(database.db, { username, password: 'x' }, meta, at(2), policy);
    const fresh = await signIn(
      database.db,
      { username, password: 'the new long password' },
      meta,
      at(2),
      policy,
    );
    expect(old.ok).toBe(false);
    expect(fresh.ok).toBe(true);
  });

  it('all end when users change their own password, and the changing browser gets a new one', async () => {
    const { user, password } = await newUser();
    const elsewhere = await createSession(database.db, user.id, meta, t0, policy);
    const here = await createSession(database.db, user.id, meta, t0, policy);

    const changed = await changePassword(
      database.db,
      user.id,
      { current: password, next: 'another long password' },
      meta,
      at(1),
      policy,
    );

    expect(changed.sessionsEnded).toBe(2);
    for (const { token } of [elsewhere, here]) {
      expect(await validateSessionToken(database.db, token, at(2), policy)).toMatchObject({
        ok: false,
      });
    }
    expect(await validateSessionToken(database.db, changed.token, at(2), policy)).toMatchObject({
      ok: true,
    });
    await expect(
      changePassword(database.db, user.id, { current: password, next: 'x'.repeat(20) }, meta, t0),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED', reason: 'wrong_password' });
  });
});

describe('device tokens', () => {
  it('open the one board they are bound to, read-only', async () => {
    const { token, device } = await issueDeviceToken(
      database.db,
      { label: 'ICU station', board: 'ICU', issuedBy: null },
      t0,
    );

    const { actor } = await resolveActor(database.db, { deviceToken: token }, at(1), policy);

    expect(device.id).toBe(tokenId(token));
    expect(actor).toMatchObject({ kind: 'device', board: 'ICU', roles: ['wall_display'] });
    expect(departmentScope(roles, actor!, 'board.read')).toEqual(['ICU']);
    for (const permission of ['catalog.read', 'adt.write', 'device.manage'] as const) {
      expect(departmentScope(roles, actor!, permission)).toEqual([]);
    }
  });

  it('for the hospital board see every department', async () => {
    const { token } = await issueDeviceToken(
      database.db,
      { label: 'Bed office', board: null, issuedBy: null },
      t0,
    );
    const { actor } = await resolveActor(database.db, { deviceToken: token }, t0, policy);
    expect(departmentScope(roles, actor!, 'board.read')).toBe('*');
  });

  it('stop working when revoked or expired, and say which', async () => {
    const request = { label: 'Ward screen', board: 'MED', issuedBy: null, expiresInDays: 1 };
    const revoked = await issueDeviceToken(database.db, request, t0);
    const expiring = await issueDeviceToken(database.db, request, t0);

    await revokeDevice(database.db, revoked.device.id, at(1));

    expect(await validateDeviceToken(database.db, revoked.token, at(2))).toMatchObject({
      ok: false,
      reason: 'revoked',
    });
    expect(await validateDeviceToken(database.db, expiring.token, at(24 * 60))).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    expect(await validateDeviceToken(database.db, generateToken(), t0)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await validateDeviceToken(database.db, 'bogus', t0)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each([
    [{ label: ' ', board: null }, 'invalid_label'],
    [{ label: 'x', board: 'NOPE' }, 'unknown_department'],
    [{ label: 'x', board: null, expiresInDays: 0 }, 'invalid_expiry'],
    [{ label: 'x', board: null, expiresInDays: 1000 }, 'invalid_expiry'],
  ])('are refused for %j (%s), nothing written', async (request, reason) => {
    const count = async () =>
      (await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM device_token`))
        .rows[0]!.n;
    const before = await count();

    await expect(
      issueDeviceToken(database.db, { issuedBy: null, ...request }, t0),
    ).rejects.toMatchObject({ code: 'VALIDATION', reason });
    expect(await count()).toBe(before);
  });

  it('revoking an unknown id is NOT_FOUND', async () => {
    await expect(revokeDevice(database.db, tokenId('nope'), t0)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      reason: 'unknown_device',
    });
    await expect(revokeDevice(database.db, 'garbage', t0)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('resolving a request', () => {
  it('acts as the signed-in user before the device, and falls back to the device', async () => {
    const { user } = await newUser('charge_nurse', ['MED']);
    const { token: sessionToken } = await createSession(database.db, user.id, meta, t0, policy);
    const { token: deviceToken } = await issueDeviceToken(
      database.db,
      { label: 'x', board: 'ICU', issuedBy: null },
      t0,
    );

    const both = await resolveActor(database.db, { sessionToken, deviceToken }, t0, policy);
    const forged = await resolveActor(
      database.db,
      { sessionToken: generateToken(), deviceToken },
      t0,
      policy,
    );
    const none = await resolveActor(database.db, {}, t0, policy);

    expect(both.actor).toMatchObject({ kind: 'user', id: user.id, departments: ['MED'] });
    expect(departmentScope(roles, both.actor!, 'board.read')).toEqual(['MED']);
    expect(forged.actor).toMatchObject({ kind: 'device', board: 'ICU' });
    expect(forged.refusals).toEqual([{ credential: 'session', reason: 'unknown' }]);
    expect(none).toEqual({ actor: null, refusals: [] });
  });
});
