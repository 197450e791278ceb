import { pino, type Logger } from 'pino';

/**
 * Jobs log ids and counts only; should a row or an error carrying patient identity ever reach
 * a log call, these paths are censored.
 */
const redactedPaths = ['mrn', 'familyName', 'givenName', 'birthDate', 'address', 'name'].flatMap(
  (field) => [field, `*.${field}`, `*.*.${field}`],
);

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { app: 'worker' } },
    destination ?? process.stdout,
  );
}
