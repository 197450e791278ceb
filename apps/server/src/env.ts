import { z } from 'zod';

/** Every environment variable the server reads, validated once at start-up. */
const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // Loopback by default: until sessions land (security issue) the API must not face a network.
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder of the built web app (adapter-node); served on the same origin when present. */
  WEB_BUILD_DIR: z.string().optional(),
  /** HL7 v2 over MLLP (docs/hl7.md): the listener's port, 0 to run without it. */
  MLLP_PORT: z.coerce.number().int().min(0).max(65535).default(2575),
  /** Interface the MLLP listener binds to; HOST by default. */
  MLLP_HOST: z.string().optional(),
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
