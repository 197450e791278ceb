import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface WorkerEnv {
  DATABASE_URL: string;
  LOG_LEVEL: (typeof logLevels)[number];
  /** config/hospital.json: the hospital's time zone, in which scheduled jobs run. */
  HOSPITAL_CONFIG: string;
  /** config/audit.json: retention, segment size and compaction of the audit log. */
  AUDIT_CONFIG: string;
  /** `stdout` or a file: a JSON-lines copy of the audit seals for a SIEM; unset for none. */
  AUDIT_MIRROR: string | undefined;
  /**
   * The role the worker's connections take (packages/db createDb): `medaxis_app` unless set;
   * empty keeps the login's role. Audit compaction and retention use the login's role.
   */
  DATABASE_ROLE: string;
  /** `off` behind a pooler that shares sessions (as the server's, apps/server/src/env.ts). */
  DATABASE_PREPARED_STATEMENTS: 'on' | 'off';
}

const defaultHospitalConfig = fileURLToPath(
  new URL('../../../config/hospital.json', import.meta.url),
);
const defaultAuditConfig = fileURLToPath(new URL('../../../config/audit.json', import.meta.url));

/** Every environment variable the worker reads, checked once at start-up. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const problems: string[] = [];

  const databaseUrl = env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:$/.test(protocolOf(databaseUrl))) {
    problems.push('DATABASE_URL: must be a postgresql:// URL');
  }
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of ${logLevels.join(', ')}`);
  }

  if (env.DATABASE_ROLE && !/^[a-z_][a-z0-9_]*$/.test(env.DATABASE_ROLE)) {
    problems.push('DATABASE_ROLE: must be a role name (lowercase letters, digits, _)');
  }

  const prepared = env.DATABASE_PREPARED_STATEMENTS || 'on';
  if (prepared !== 'on' && prepared !== 'off') {
    problems.push('DATABASE_PREPARED_STATEMENTS: must be on or off');
  }

  if (problems.length > 0) throw new Error(`invalid worker environment: ${problems.join('; ')}`);
  return {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: logLevel as WorkerEnv['LOG_LEVEL'],
    HOSPITAL_CONFIG: env.HOSPITAL_CONFIG ?? join(defaultHospitalConfig),
    AUDIT_CONFIG: env.AUDIT_CONFIG ?? defaultAuditConfig,
    AUDIT_MIRROR: env.AUDIT_MIRROR || undefined,
    DATABASE_ROLE: env.DATABASE_ROLE ?? 'medaxis_app',
    DATABASE_PREPARED_STATEMENTS: prepared as WorkerEnv['DATABASE_PREPARED_STATEMENTS'],
  };
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}
