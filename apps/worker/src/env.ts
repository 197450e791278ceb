import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface WorkerEnv {
  DATABASE_URL: string;
  LOG_LEVEL: (typeof logLevels)[number];
  /** config/hospital.json: the hospital's time zone, in which scheduled jobs run. */
  HOSPITAL_CONFIG: string;
}

const defaultHospitalConfig = fileURLToPath(
  new URL('../../../config/hospital.json', import.meta.url),
);

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

  if (problems.length > 0) throw new Error(`invalid worker environment: ${problems.join('; ')}`);
  return {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: logLevel as WorkerEnv['LOG_LEVEL'],
    HOSPITAL_CONFIG: env.HOSPITAL_CONFIG ?? join(defaultHospitalConfig),
  };
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}
