import { describe, expect, it } from 'vitest';

import {
  checkNewPassword,
  generatePassword,
  hashPassword,
  passwordRules,
  verifyPassword,
} from './passwords.ts';

describe('passwords', () => {
  it('are hashed with argon2id at OWASP parameters, salted differently each time', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');

    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(second).not.toBe(first);
  });

  it('verify only against the password that was hashed', async () => {
    const stored = await hashPassword('correct horse battery');

    expect(await verifyPassword(stored, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse batterY')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('refuse rather than throw when the stored hash is not an argon2 hash', async () => {
    expect(await verifyPassword('not a hash', 'anything at all')).toBe(false);
  });

  it('must be long enough, and not so long that hashing becomes a weapon', () => {
    expect(() => checkNewPassword('short')).toThrow(
      expect.objectContaining({ code: 'VALIDATION', reason: 'password_too_short' }),
    );
    expect(() => checkNewPassword('x'.repeat(passwordRules.maxLength + 1))).toThrow(
      expect.objectContaining({ code: 'VALIDATION', reason: 'password_too_long' }),
    );
    expect(() => checkNewPassword('twelve chars')).not.toThrow();
  });

  it('are generated long and random enough to print once for a first admin', () => {
    const password = generatePassword();

    expect(password).toMatch(/^[a-z2-7]{6}(-[a-z2-7]{6}){3}$/);
    expect(() => checkNewPassword(password)).not.toThrow();
    expect(generatePassword()).not.toBe(password);
  });
});
