import { describe, expect, it, vi } from 'vitest';

import {
  boardPath,
  fetchSession,
  knownSignedOut,
  landingPath,
  loginPath,
  safeNext,
  setUpDevice,
  signIn,
  type Session,
} from './session.ts';

function answering(status: number, body: unknown): typeof fetch {
  return vi.fn(() => Promise.resolve(new Response(JSON.stringify(body), { status })));
}

describe('session', () => {
  it('remembers that nobody is signed in until a sign-in (the sign-in page asks once)', async () => {
    await fetchSession(answering(401, { error: {} }));
    expect(knownSignedOut()).toBe(true);

    await signIn('ana', 'secret', answering(200, {}));
    expect(knownSignedOut()).toBe(false);

    await fetchSession(answering(401, { error: {} }));
    await signIn('ana', 'wrong', answering(401, { error: { message: 'Wrong.' } }));
    expect(knownSignedOut()).toBe(true);
  });

  it('is null when the server says nobody is signed in, and fails on other errors', async () => {
    expect(await fetchSession(answering(401, { error: {} }))).toBeNull();
    await expect(fetchSession(answering(503, {}))).rejects.toThrow(/503/);
    expect(await fetchSession(answering(200, { kind: 'device', board: 'ICU' }))).toMatchObject({
      kind: 'device',
      board: 'ICU',
    });
  });

  it("passes on the server's wording of a refused sign-in, and a generic one for outages", async () => {
    const refused = { error: { message: 'Wrong username or password.' } };

    expect(await signIn('a', 'b', answering(401, refused))).toEqual({
      ok: false,
      message: 'Wrong username or password.',
    });
    expect(await signIn('a', 'b', answering(502, { error: { message: 'Bad gateway' } }))).toEqual({
      ok: false,
      message: 'The server could not be reached. Try again in a moment.',
    });
    expect(await signIn('a', 'b', answering(200, {}))).toEqual({ ok: true });
  });

  it('sets up a display and says which board it shows', async () => {
    const fetchFn = answering(200, { kind: 'device', label: 'ICU', board: 'ICU' });

    expect(await setUpDevice('token', fetchFn)).toEqual({ ok: true, board: 'ICU', label: 'ICU' });
    expect(fetchFn).toHaveBeenCalledWith(
      '/auth/device',
      expect.objectContaining({ method: 'POST', body: '{"token":"token"}' }),
    );
  });

  it('sends people back only to a page of this site after signing in', () => {
    expect(safeNext('/board/ICU?page=2')).toBe('/board/ICU?page=2');
    for (const elsewhere of [null, '', 'https://evil.example', '//evil.example', '/\\evil']) {
      expect(safeNext(elsewhere)).toBe('/board');
    }
    expect(loginPath('/board/ICU')).toBe('/login?next=%2Fboard%2FICU');
  });

  it("opens a display's own board", () => {
    expect(boardPath(null)).toBe('/board');
    expect(boardPath('ICU')).toBe('/board/ICU');
  });

  it('takes a compliance officer who asked for no page to the audit views', () => {
    const person = (roles: string[]): Session => ({
      kind: 'user',
      username: 'x',
      roles,
      departments: '*',
      expiresAt: null,
    });
    expect(landingPath(person(['compliance_officer']), '/board')).toBe('/audit');
    expect(landingPath(person(['compliance_officer']), '/audit/chain')).toBe('/audit/chain');
    expect(landingPath(person(['compliance_officer', 'bed_manager']), '/board')).toBe('/board');
    expect(landingPath(person(['bed_manager']), '/board')).toBe('/board');
    expect(landingPath(null, '/board')).toBe('/board');
  });
});
