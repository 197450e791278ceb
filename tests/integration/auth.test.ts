import { createSession, issueDeviceToken, tokenId } from '@medaxis/auth';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { seedSmallHospital, type SmallHospital } from '../support/fixtures.ts';
import { startStack, type Api, type Stack } from '../support/stack.ts';

let stack: Stack;
let hospital: SmallHospital;

/** Short enough to watch a session slide and expire within a test. */
const idleTimeoutMs = 2_000;

beforeAll(async () => {
  stack = await startStack({
    auth: {
      sessionPolicy: { idleTimeoutMs, maxLifetimeMs: 60_000, touchIntervalMs: 250 },
      loginLimits: {
        perAddress: { max: 1_000, windowMs: 60_000 },
        perAccount: { max: 1_000, windowMs: 60_000 },
      },
      socketCheckMs: 200,
    },
  });
  hospital = await seedSmallHospital(stack.database.db);
});

afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: any;
  cookies: string[];
}

async function call(
  path: string,
  init: { method?: string; cookie?: string; body?: unknown; headers?: Record<string, string> },
  base = stack.baseUrl,
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    cookies: response.headers.getSetCookie(),
  };
}

function login(username: string, password: string, base = stack.baseUrl) {
  return call('/auth/login', { body: { username, password } }, base);
}

/** The `name=value` part of a Set-Cookie, for the next request's Cookie header. */
function cookieOf(answer: Answer, name = 'medaxis_session'): string {
  const header = answer.cookies.find((c) => c.startsWith(`${name}=`));
  if (!header) throw new Error(`no ${name} cookie in ${JSON.stringify(answer.cookies)}`);
  return header.split(';')[0]!;
}

function maxAge(setCookie: string): number {
  return Number(/Max-Age=(\d+)/.exec(setCookie)?.[1] ?? Number.NaN);
}

/** board.snapshot over plain HTTP, as the web app calls it. */
function snapshot(cookie: string | undefined, department?: string) {
  const input = encodeURIComponent(JSON.stringify(department ? { department } : {}));
  return call(`/trpc/board.snapshot?input=${input}`, { cookie });
}

async function newUser(role = 'bed_manager', departments?: string[]) {
  const credentials = await stack.connect({ role, ...(departments ? { departments } : {}) })
    .credentials;
  return { username: credentials.username!, password: credentials.password! };
}

/** The audit entries the server logged (auth/audit-hook.ts), parsed. */
function auditLog(): { action: string; outcome: string; reason?: string; username?: string }[] {
  return stack.logs
    .map((line) => JSON.parse(line) as { audit?: string })
    .filter((entry) => entry.audit === 'auth') as never;
}

function trpcCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError
    ? (error.data as { code?: string } | undefined)?.code
    : undefined;
}

/** `error.data.medaxis` of a refused call: what clients branch on. */
function medaxisOf(error: unknown): unknown {
  return error instanceof TRPCClientError
    ? (error.data as { medaxis?: unknown } | undefined)?.medaxis
    : undefined;
}

async function eventCount() {
  const { rows } = await stack.database.db.query(`SELECT count(*)::int AS n FROM event`);
  return rows[0].n as number;
}

describe('signing in', () => {
  it('sets a secret, HttpOnly, SameSite cookie that opens the API; signing out ends it', async () => {
    const { username, password } = await newUser();

    const signedIn = await login(username, password);

    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user).toMatchObject({ username, roles: ['bed_manager'] });
    const header = signedIn.cookies.find((c) => c.startsWith('medaxis_session='))!;
    expect(header).toMatch(/; HttpOnly/);
    expect(header).toMatch(/; SameSite=Lax/);
    expect(header).toMatch(/; Path=\//);
    expect(maxAge(header)).toBeGreaterThan(0);
    expect(maxAge(header)).toBeLessThanOrEqual(idleTimeoutMs / 1000);
    const cookie = cookieOf(signedIn);
    const session = (await call('/auth/session', { cookie })).body;
    expect(session).toMatchObject({ kind: 'user', siteTimeZone: expect.any(String) });
    const { rows } = await stack.database.db.query<{ zone: string }>(
      'SELECT time_zone AS zone FROM site',
    );
    expect(session.siteTimeZone).toBe(rows[0]!.zone);
    expect((await snapshot(cookie)).status).toBe(200);

    const signedOut = await call('/auth/logout', { method: 'POST', cookie });

    expect(signedOut.status).toBe(204);
    expect(signedOut.cookies.join()).toMatch(/medaxis_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await snapshot(cookie)).status).toBe(401);
    expect((await call('/auth/session', { cookie })).status).toBe(401);
  });

  it('answers a wrong password, an unknown user and a disabled user alike; the log says which', async () => {
    const { username, password } = await newUser();
    const disabled = await newUser();
    const { api: admin } = stack.connect({ role: 'admin' });
    await admin.users.disable.mutate({ username: disabled.username });

    const answers = [
      await login(username, `${password}!`),
      await login('nobody-here', password),
      await login(disabled.username, disabled.password),
    ];

    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(answers[0]!.body);
      expect(answer.cookies).toEqual([]);
    }
    expect(answers[0]!.body.error).toEqual({
      message: 'Wrong username or password.',
      medaxis: { code: 'UNAUTHORIZED', reason: 'invalid_credentials' },
    });
    const refused = auditLog().filter((e) => e.action === 'login' && e.outcome === 'failure');
    expect(refused.slice(-3).map((e) => [e.username, e.reason])).toEqual([
      [username, 'wrong_password'],
      ['nobody-here', 'unknown_user'],
      [disabled.username, 'user_disabled'],
    ]);
    expect(stack.logs.join()).not.toContain(password);
  });

  it('answers a malformed sign-in with 400, not 500', async () => {
    for (const body of [{}, { username: 'x' }, { username: 1, password: 'x' }, [1]]) {
      expect((await call('/auth/login', { body })).status).toBe(400);
    }
  });
});

describe('rate limits on signing in', () => {
  it('refuse with 429 past the limit per account, then past the limit per address', async () => {
    const limited = await startStack({
      database: stack.database,
      auth: {
        loginLimits: {
          perAddress: { max: 5, windowMs: 60_000 },
          perAccount: { max: 3, windowMs: 60_000 },
        },
      },
    });
    try {
      const alice = await newUser();
      const bob = await newUser();
      const tries = (who: { username: string }, password: string) =>
        login(who.username, password, limited.baseUrl);

      const guesses = [await tries(alice, 'guess 1'), await tries(alice, 'guess 2')];
      const third = await tries(alice, 'guess 3');
      // Over the account's limit even the right password is refused.
      const fourth = await tries(alice, alice.password);
      // Another account from the same address is not held back by alice's limit...
      const bobFirst = await tries(bob, bob.password);
      // ...until the address itself is over its limit.
      const bobSecond = await tries(bob, bob.password);

      expect([...guesses, third].map((a) => a.status)).toEqual([401, 401, 401]);
      expect(fourth.status).toBe(429);
      expect(fourth.cookies).toEqual([]);
      expect(Number(fourth.body.error.retryAfterSeconds)).toBeGreaterThan(0);
      expect(bobFirst.status).toBe(200);
      expect(bobSecond.status).toBe(429);
      expect(limited.logs.join()).toContain('"action":"login_rate_limited"');
    } finally {
      await limited.stop();
    }
  });
});

describe('sessions', () => {
  it('slide: each use moves the expiry; an idle session expires', async () => {
    const { username, password } = await newUser();
    const cookie = cookieOf(await login(username, password));

    await sleep(idleTimeoutMs * 0.6);
    const used = await snapshot(cookie);
    await sleep(idleTimeoutMs * 0.6);
    // Past the first expiry, alive thanks to the use in between.
    const usedAgain = await snapshot(cookie);
    await sleep(idleTimeoutMs * 1.2);
    const idle = await snapshot(cookie);

    expect(used.status).toBe(200);
    // The browser is handed the slid expiry with the same cookie.
    expect(used.cookies.join()).toContain(cookie);
    expect(maxAge(used.cookies.join())).toBeGreaterThan(0);
    expect(usedAgain.status).toBe(200);
    expect(idle.status).toBe(401);
    expect(auditLog().at(-1)).toMatchObject({ action: 'session_refused', reason: 'expired' });
  });

  it('all end when the user changes the password; the changing browser gets a new one', async () => {
    const { username, password } = await newUser();
    const elsewhere = cookieOf(await login(username, password));
    const here = cookieOf(await login(username, password));

    const changed = await call('/auth/password', {
      cookie: here,
      body: { current: password, next: 'a brand new password' },
    });

    expect(changed.status).toBe(204);
    expect((await snapshot(elsewhere)).status).toBe(401);
    expect((await snapshot(here)).status).toBe(401);
    expect((await snapshot(cookieOf(changed))).status).toBe(200);
    expect((await login(username, 'a brand new password')).status).toBe(200);
  });

  it('all end when the user is disabled or an administrator resets the password', async () => {
    const disabled = await newUser();
    const reset = await newUser();
    const disabledCookie = cookieOf(await login(disabled.username, disabled.password));
    const resetCookie = cookieOf(await login(reset.username, reset.password));
    const { api: admin } = stack.connect({ role: 'admin' });

    const disabling = await admin.users.disable.mutate({ username: disabled.username });
    const resetting = await admin.users.resetPassword.mutate({ username: reset.username });

    expect(disabling.sessionsEnded).toBe(2);
    expect(resetting.sessionsEnded).toBe(2);
    expect((await snapshot(disabledCookie)).status).toBe(401);
    expect((await snapshot(resetCookie)).status).toBe(401);
    expect((await login(reset.username, resetting.password)).status).toBe(200);
  });
});

describe('forged, expired and malformed credentials', () => {
  const refusedWith = async (cookie: string, credential: string, reason: string) => {
    const answer = await snapshot(cookie);

    expect(answer.status).toBe(401);
    expect(answer.body.error.data.code).toBe('UNAUTHORIZED');
    expect(answer.body.error.message).toBe('Sign in first.');
    // The browser is told to drop the cookie; the audit says why it was refused.
    expect(answer.cookies.join()).toMatch(new RegExp(`${cookie.split('=')[0]}=;`));
    expect(auditLog().at(-1)).toMatchObject({ action: credential, reason });
  };

  it('a forged session token', async () => {
    await refusedWith(`medaxis_session=${'a'.repeat(32)}`, 'session_refused', 'unknown');
  });

  it('a malformed session token', async () => {
    await refusedWith(`medaxis_session=x';DROP TABLE session`, 'session_refused', 'malformed');
  });

  it('an expired session token', async () => {
    const { username } = await newUser();
    const { rows } = await stack.database.db.query<{ id: string }>(
      `SELECT id FROM app_user WHERE username = $1`,
      [username],
    );
    const { token, session } = await createSession(
      stack.database.db,
      rows[0]!.id,
      { address: null, userAgent: null },
      new Date(),
    );
    await stack.database.db.query(
      `UPDATE session SET expires_at = now() - interval '1 s' WHERE id = $1`,
      [session.id],
    );
    await refusedWith(`medaxis_session=${token}`, 'session_refused', 'expired');
  });

  it('a forged device token', async () => {
    await refusedWith(`medaxis_device=${'b'.repeat(32)}`, 'device_token_refused', 'unknown');
  });

  it('a malformed device token', async () => {
    await refusedWith('medaxis_device=%00%01', 'device_token_refused', 'malformed');
  });

  it('an expired device token', async () => {
    const { token, device } = await issueDeviceToken(
      stack.database.db,
      { label: 'old screen', board: null, issuedBy: null, expiresInDays: 1 },
      new Date(),
    );
    await stack.database.db.query(
      `UPDATE device_token SET expires_at = now() - interval '1 s' WHERE id = $1`,
      [device.id],
    );
    await refusedWith(`medaxis_device=${token}`, 'device_token_refused', 'expired');
  });

  it('a revoked device token', async () => {
    const token = await stack.deviceToken('MED');
    const { api: admin } = stack.connect({ role: 'admin' });
    await admin.devices.revoke.mutate({ id: tokenId(token) });

    await refusedWith(`medaxis_device=${token}`, 'device_token_refused', 'revoked');
  });

  it('a forged device token presented as a bearer token', async () => {
    const answer = await call('/trpc/board.snapshot', {
      headers: { authorization: `Bearer ${'c'.repeat(32)}` },
    });

    expect(answer.status).toBe(401);
    expect(auditLog().at(-1)).toMatchObject({
      action: 'device_token_refused',
      reason: 'unknown',
    });
  });
});

describe('no credential at all', () => {
  it('is refused on patient data, and the attempt is audited as nobody, denied', async () => {
    const response = await fetch(
      `${stack.baseUrl}/trpc/patients.search?input=${encodeURIComponent('{"name":"Wojcik"}')}`,
    );
    expect(response.status).toBe(401);

    const { rows } = await stack.database.db.query(
      `SELECT actor_kind AS "actorKind", action, outcome, reason, purpose
         FROM audit_event WHERE operation = 'patients.search' AND actor_kind = 'anonymous'`,
    );
    expect(rows).toEqual([
      {
        actorKind: 'anonymous',
        action: 'search',
        outcome: 'denied',
        reason: 'unauthenticated',
        purpose: 'treatment',
      },
    ]);
  });
});

describe('cross-origin requests (CSRF)', () => {
  it('refuses a state-changing request from another origin, session or not, changing nothing', async () => {
    const { username, password } = await newUser();
    const cookie = cookieOf(await login(username, password));
    const before = await eventCount();
    const block = (headers: Record<string, string>) =>
      call('/trpc/beds.block', {
        cookie,
        headers,
        body: { bedId: hospital.beds['MED-02-B'], reason: 'maintenance' },
      });

    const foreign = await block({ origin: 'https://evil.example' });
    const nullOrigin = await block({ origin: 'null' });
    const crossSite = await block({ 'sec-fetch-site': 'cross-site' });
    const foreignLogin = await call('/auth/login', {
      body: { username, password },
      headers: { origin: 'https://evil.example' },
    });

    for (const answer of [foreign, nullOrigin, crossSite, foreignLogin]) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.medaxis).toEqual({ code: 'FORBIDDEN', reason: 'cross_origin' });
      expect(answer.cookies).toEqual([]);
    }
    expect(await eventCount()).toBe(before);

    const sameOrigin = await block({ origin: stack.baseUrl, 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin.status).toBe(200);
    expect(await eventCount()).toBe(before + 1);
  });
});

describe('the websocket', () => {
  /** Subscribes to board.events; resolves 'started' or the error's tRPC code. */
  function subscribeOutcome(api: Api, input: { department?: string } = {}) {
    return new Promise<string>((resolve) => {
      const subscription = api.board.events.subscribe(input, {
        onStarted: () => {
          subscription.unsubscribe();
          resolve('started');
        },
        onError: (error) => {
          subscription.unsubscribe();
          resolve(trpcCode(error) ?? error.message);
        },
      });
    });
  }

  it('authenticates with the same session cookie, and refuses a socket without one', async () => {
    const signedIn = stack.connect({ role: 'charge_nurse', departments: ['MED'] });
    const nobody = stack.connect({ anonymous: true });

    expect(await subscribeOutcome(signedIn.api)).toBe('started');
    expect(await subscribeOutcome(nobody.api)).toBe('UNAUTHORIZED');
    await signedIn.close();
    await nobody.close();
  });

  it('refuses a handshake from another origin even with a valid cookie', async () => {
    const { username, password } = await newUser();
    const cookie = cookieOf(await login(username, password));
    const socket = new WebSocket(`${stack.baseUrl.replace('http', 'ws')}/trpc`, {
      headers: { cookie, origin: 'https://evil.example' },
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({
        id: 1,
        method: 'subscription',
        params: { path: 'board.events', input: {} },
      }),
    );
    const reply = await new Promise<string>((resolve) =>
      socket.once('message', (data: Buffer) => resolve(data.toString())),
    );
    socket.close();

    expect(JSON.parse(reply).error.data.code).toBe('UNAUTHORIZED');
    expect(auditLog().some((e) => e.action === 'cross_origin_refused')).toBe(true);
  });

  it('is closed when its session ends, and then refused', async () => {
    const connection = stack.connect({ role: 'bed_manager' });
    const { cookie: ownCookie } = await connection.credentials;
    const outcomes: string[] = [];
    const subscription = connection.api.board.events.subscribe(
      {},
      {
        onStarted: () => outcomes.push('started'),
        onError: (error) => outcomes.push(trpcCode(error) ?? error.message),
      },
    );
    await expect.poll(() => outcomes).toEqual(['started']);

    await call('/auth/logout', { method: 'POST', cookie: ownCookie });

    await expect.poll(() => outcomes, { timeout: 5_000 }).toEqual(['started', 'UNAUTHORIZED']);
    subscription.unsubscribe();
    await connection.close();
  });

  it('is closed when its device token is revoked', async () => {
    const display = stack.connect({ device: 'MED' });
    const { deviceToken } = await display.credentials;
    const outcomes: string[] = [];
    const subscription = display.api.board.events.subscribe(
      {},
      {
        onStarted: () => outcomes.push('started'),
        onError: (error) => outcomes.push(trpcCode(error) ?? error.message),
      },
    );
    await expect.poll(() => outcomes).toEqual(['started']);
    const { api: admin } = stack.connect({ role: 'admin' });

    await admin.devices.revoke.mutate({ id: tokenId(deviceToken!) });

    await expect.poll(() => outcomes, { timeout: 5_000 }).toEqual(['started', 'UNAUTHORIZED']);
    subscription.unsubscribe();
    await display.close();
  });
});

describe('the board stream of wall displays', () => {
  /** A raw socket on /board-stream, as the web board opens it; resolves how it closed. */
  function openBoardStream(cookie: string | undefined, query: Record<string, string> = {}) {
    const url = new URL('/board-stream', stack.baseUrl.replace('http', 'ws'));
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const socket = new WebSocket(url, cookie ? { headers: { cookie } } : {});
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    return { socket, closed };
  }

  it('serves a device token its own board, and refuses others and strangers', async () => {
    const cookie = `medaxis_device=${await stack.deviceToken('MED')}`;
    const before = stack.boardStream.socketCount;

    const own = openBoardStream(cookie, { department: 'MED' });
    const whole = openBoardStream(cookie);
    const other = openBoardStream(cookie, { department: 'ED' });
    const stranger = openBoardStream(undefined);

    expect((await other.closed).code).toBe(4403);
    expect((await stranger.closed).code).toBe(4401);
    // The hospital view narrows to the device's board rather than failing.
    await expect.poll(() => stack.boardStream.socketCount).toBe(before + 2);
    own.socket.close();
    whole.socket.close();
    await Promise.all([own.closed, whole.closed]);
  });

  it("closes a display's stream when its device token is revoked", async () => {
    const token = await stack.deviceToken(null);
    const board = openBoardStream(`medaxis_device=${token}`);
    await new Promise((resolve) => board.socket.once('open', resolve));
    const { api: admin } = stack.connect({ role: 'admin' });

    await admin.devices.revoke.mutate({ id: tokenId(token) });

    expect((await board.closed).code).toBe(4401);
  });
});

describe('device tokens', () => {
  it('read their own board and nothing else', async () => {
    const { api, close } = stack.connect({ device: 'MED' });

    const own = await api.board.snapshot.query();
    const refusals = await Promise.all(
      [
        () => api.board.snapshot.query({ department: 'ED' }),
        () => api.catalog.departments.query(),
        () => api.census.current.query(),
        () => api.adt.admit.mutate({ bedId: hospital.beds['MED-01-A']!, newEncounter: {} }),
        () => api.beds.block.mutate({ bedId: hospital.beds['MED-01-B']!, reason: 'x' }),
        () => api.devices.list.query(),
        () => api.users.list.query(),
      ].map((attempt) => attempt().then(() => 'allowed', trpcCode)),
    );

    expect(own.departments.map((d) => d.code)).toEqual(['MED']);
    expect((await api.board.snapshot.query({ department: 'MED' })).departments).toHaveLength(1);
    expect(refusals).toEqual(Array(7).fill('FORBIDDEN'));
    await close();
  });

  it('stream only their own board', async () => {
    const display = stack.connect({ device: 'SUR' });
    const { api: writer } = stack.connect({ role: 'bed_manager' });
    const received: { beds: { departmentCode: string }[] }[] = [];
    const subscription = display.api.board.events.subscribe(
      {},
      {
        onData: (value) => {
          if ('data' in value && value.data.kind === 'event') received.push(value.data);
        },
      },
    );
    const other = await new Promise<string>((resolve) => {
      const refused = display.api.board.events.subscribe(
        { department: 'ED' },
        { onError: (error) => resolve(trpcCode(error) ?? error.message) },
      );
      setTimeout(() => refused.unsubscribe(), 3_000);
    });
    await sleep(200);

    await writer.adt.admit.mutate({ bedId: hospital.beds['ED-02-A']!, newEncounter: {} });
    await writer.adt.admit.mutate({ bedId: hospital.beds['SUR-02-A']!, newEncounter: {} });

    await expect.poll(() => received.length).toBe(1);
    await sleep(300);
    expect(received.map((e) => e.beds.map((b) => b.departmentCode))).toEqual([['SUR']]);
    expect(other).toBe('FORBIDDEN');
    subscription.unsubscribe();
    await display.close();
  });

  it('are issued by an admin once, with a setup URL and QR code, and set up a display', async () => {
    const { api: admin } = stack.connect({ role: 'admin' });

    const issued = await admin.devices.issue.mutate({
      label: 'Surgery corridor',
      board: 'SUR',
      origin: stack.baseUrl,
    });
    const listed = await admin.devices.list.query();
    const setUp = await call('/auth/device', { body: { token: issued.token } });
    const display = cookieOf(setUp, 'medaxis_device');

    expect(issued.setupUrl).toBe(`${stack.baseUrl}/device/${issued.token}`);
    expect(issued.qrSvg).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s);
    expect(listed.find((d) => d.id === issued.device.id)).toMatchObject({
      label: 'Surgery corridor',
      board: 'SUR',
      status: 'active',
    });
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    expect(setUp.body).toEqual({ kind: 'device', label: 'Surgery corridor', board: 'SUR' });
    expect(setUp.cookies.join()).toMatch(/medaxis_device=\w+;.*HttpOnly/);
    expect((await snapshot(display)).body.result.data.departments).toHaveLength(1);
    expect((await call('/auth/session', { cookie: display })).body).toMatchObject({
      kind: 'device',
      board: 'SUR',
    });

    await admin.devices.revoke.mutate({ id: issued.device.id });

    expect((await snapshot(display)).status).toBe(401);
    const again = await call('/auth/device', { body: { token: issued.token } });
    expect(again.status).toBe(401);
    expect(again.cookies).toEqual([]);
  });

  it('are issued by admins only, for boards that exist', async () => {
    const { api: manager } = stack.connect({ role: 'bed_manager' });
    const { api: admin } = stack.connect({ role: 'admin' });

    const byManager = manager.devices.issue
      .mutate({ label: 'x', board: null, origin: stack.baseUrl })
      .then(() => 'allowed', trpcCode);
    const unknownBoard = admin.devices.issue
      .mutate({ label: 'x', board: 'NOPE', origin: stack.baseUrl })
      .then(() => 'allowed', medaxisOf);

    expect(await byManager).toBe('FORBIDDEN');
    expect(await unknownBoard).toEqual({
      code: 'VALIDATION',
      reason: 'unknown_department',
    });
  });
});

describe('users', () => {
  it('with an unknown role are refused clearly, nothing written, and the attempt audited', async () => {
    const admin = stack.connect({ role: 'admin' });
    await admin.credentials;
    const count = async () =>
      (await stack.database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM app_user`))
        .rows[0]!.n;
    const before = await count();

    const error: unknown = await admin.api.users.add
      .mutate({ username: 'new-nurse', roles: ['nurse'], departments: ['MED'] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as Error).message).toMatch(/^Unknown role nurse: config\/roles.json defines /);
    expect(medaxisOf(error)).toEqual({ code: 'VALIDATION', reason: 'unknown_role' });
    expect(await count()).toBe(before);
    expect(auditLog().at(-1)).toMatchObject({
      action: 'user_added',
      outcome: 'failure',
      reason: 'unknown_role',
      username: 'new-nurse',
    });
  });

  it('are added by an admin with a one-time password that signs in', async () => {
    const { api: admin } = stack.connect({ role: 'admin' });

    const added = await admin.users.add.mutate({
      username: 'Ward.Clerk',
      roles: ['charge_nurse'],
      departments: ['ED'],
    });

    expect(added.user).toMatchObject({ username: 'ward.clerk', departments: ['ED'] });
    expect((await login('WARD.CLERK', added.password!)).status).toBe(200);
  });
});
