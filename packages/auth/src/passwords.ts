import { hash, verify } from '@node-rs/argon2';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { ErrorCode, MedaxisError } from '@medaxis/domain';

/**
 * argon2id with OWASP's minimum for it (19 MiB, 2 passes, 1 lane), the parameters Lucia's guide
 * uses: about 40 ms a hash on the development machines, cheap for one sign-in and costly for a
 * guesser. The parameters travel inside each hash, so raising them later keeps old hashes valid.
 */
const argon2Options = { memoryCost: 19_456, timeCost: 2, outputLen: 32, parallelism: 1 };

export const passwordRules = {
  /** NIST SP 800-63B: length, not composition rules, makes a password strong. */
  minLength: 12,
  /** Bounds the work an attacker can make argon2 do with one request. */
  maxLength: 256,
} as const;

/** Refuses a password too short or too long to accept, with a reason the user can act on. */
export function checkNewPassword(password: string): void {
  if (password.length < passwordRules.minLength) {
    throw new MedaxisError(
      ErrorCode.validation,
      'password_too_short',
      `A password needs at least ${passwordRules.minLength} characters.`,
    );
  }
  if (password.length > passwordRules.maxLength) {
    throw new MedaxisError(
      ErrorCode.validation,
      'password_too_long',
      `A password has at most ${passwordRules.maxLength} characters.`,
    );
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, argon2Options);
}

/** False for a wrong password, and for anything that is no argon2 hash (never throws). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > passwordRules.maxLength) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a password nobody knows. Signing in as an unknown user verifies against it, so a
 * wrong username takes as long as a wrong password and response times do not reveal which
 * usernames exist.
 */
export function unknownUserHash(): Promise<string> {
  unknownHash ??= hashPassword(
    encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20))),
  );
  return unknownHash;
}
let unknownHash: Promise<string> | undefined;

/** A random password for a first admin or a reset: 120 bits, in groups of six to read aloud. */
export function generatePassword(): string {
  const text = encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(15)));
  return text.match(/.{1,6}/g)!.join('-');
}
