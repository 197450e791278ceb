import type { CookieSerializeOptions } from '@fastify/cookie';

/** The signed-in person's session token (Lucia's design: the secret; the table keeps its hash). */
export const sessionCookie = 'medaxis_session';
/** A wall display's device token, stored by the setup page (/device/<token>). */
export const deviceCookie = 'medaxis_device';

/**
 * `auto`: Secure whenever the request came over HTTPS (directly, or through a proxy the server
 * trusts, TRUST_PROXY); plain-HTTP development on localhost then still works.
 */
export type SecureCookies = 'auto' | 'always' | 'never';

/**
 * HttpOnly (page scripts never see the token), SameSite=Lax (no cross-site POST carries it,
 * while a link to the board from elsewhere still opens signed in), the whole site as path.
 */
export function cookieOptions(
  secure: SecureCookies,
  expiresAt: Date | null,
  now: Date,
): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: secure === 'auto' ? 'auto' : secure === 'always',
    ...(expiresAt === null
      ? {}
      : { maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)) }),
  };
}
