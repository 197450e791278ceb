import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';

/*
 * Tokens in Lucia's session design: 20 random bytes (160 bits of entropy, well past guessing)
 * given to the client as base32, and stored only as the hex SHA-256 of that text. A leaked
 * session or device table therefore opens nothing, and a lookup needs no constant-time
 * comparison: the attacker cannot choose what the stored id is compared with.
 */

const tokenBytes = 20;
/** 20 bytes in base32 are 32 characters of a–z and 2–7. */
const tokenForm = /^[a-z2-7]{32}$/;

/** A new secret for a session cookie or a device token. */
export function generateToken(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(tokenBytes)));
}

/** The id stored for a token: hex SHA-256 of its text. */
export function tokenId(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

/**
 * True when `value` has the shape of a token we issue. Anything else is refused before the
 * database is asked, so malformed input costs nothing and is reported as malformed.
 */
export function isWellFormedToken(value: unknown): value is string {
  return typeof value === 'string' && tokenForm.test(value);
}
