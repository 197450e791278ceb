import { z } from 'zod';

/** Every environment variable the server reads, validated once at start-up. */
const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // Loopback by default. Displays and browsers on other machines need HOST=0.0.0.0 and, as
  // passwords and session cookies then cross the network, TLS in front of the server.
  HOST: z.string().default('127.0.0.1'),
  /**
   * Fastify's trustProxy: "true" (any), or the proxies' addresses/CIDRs (a comma list).
   * Behind a proxy this gives the client's address (sign-in limits, audit) and the protocol
   * (Secure cookies) from X-Forwarded-*; never set it without a proxy that overwrites those.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value): boolean | string => {
      if (value === undefined || value === '' || value === 'false') return false;
      return value === 'true' ? true : value;
    }),
  /** Secure flag of the session and device cookies: auto (set over https), always, never. */
  COOKIE_SECURE: z.enum(['auto', 'always', 'never']).default('auto'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder of the built web app (adapter-node); served on the same origin when present. */
  WEB_BUILD_DIR: z.string().optional(),
  /** HL7 v2 over MLLP (docs/hl7.md): the listener's port, 0 to run without it. */
  MLLP_PORT: z.coerce.number().int().min(0).max(65535).default(2575),
  /** Interface the MLLP listener binds to; HOST by default. */
  MLLP_HOST: z.string().optional(),
  /**
   * The role the server's connections take (packages/db createDb), `medaxis_app` unless set:
   * it may append audit rows but never change or delete them. Empty keeps the login's role.
   */
  DATABASE_ROLE: z
    .string()
    .regex(/^([a-z_][a-z0-9_]*)?$/, 'DATABASE_ROLE must be a plain role name')
    .default('medaxis_app'),
  /**
   * `off` behind a pooler that shares sessions between clients (PgBouncer in transaction
   * mode): the hot paths' statements are then sent as plain text instead of being prepared
   * once per connection (packages/db `prepared`), which such a pooler cannot keep.
   */
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  /** `stdout` or a file: a JSON-lines copy of every audit row for a SIEM; unset for none. */
  AUDIT_MIRROR: z.string().optional(),
  /** Folder holding roles.json and the other policy files; the repository's config/ by default. */
  MEDAXIS_CONFIG_DIR: z.string().optional(),
});

export type ServerEnv = z.infer<typeof schema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid server environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}
