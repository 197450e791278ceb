import { describe, expect, it } from 'vitest';

import { generateToken, isWellFormedToken, tokenId } from './tokens.ts';

describe('tokens', () => {
  it('are 32 base32 characters (160 random bits) and never repeat', () => {
    const tokens = Array.from({ length: 1_000 }, generateToken);

    for (const token of tokens) expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('are stored as the hex SHA-256 of their text, never as themselves', () => {
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    expect(tokenId('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = generateToken();
    expect(tokenId(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenId(token)).not.toContain(token);
  });

  it('are told apart from anything malformed before any lookup', () => {
    const token = generateToken();
    expect(isWellFormedToken(token)).toBe(true);
    for (const bad of [
      '',
      token.slice(1),
      `${token}a`,
      token.toUpperCase(),
      `${token.slice(0, 31)}1`,
      `${token.slice(0, 31)}'`,
      tokenId(token),
      undefined,
      42,
      [token],
    ]) {
      expect(isWellFormedToken(bad)).toBe(false);
    }
  });
});
