import { pino, type Logger } from 'pino';

/**
 * Patient identity never reaches a log: these paths are censored wherever they appear in a
 * logged object, including request bodies and errors that carry rows.
 */
export const redactedPaths = [
  'mrn',
  'familyName',
  'givenName',
  'birthDate',
  'address',
  'name',
  '*.mrn',
  '*.familyName',
  '*.givenName',
  '*.birthDate',
  '*.address',
  '*.*.mrn',
  '*.*.familyName',
  '*.*.givenName',
  '*.*.birthDate',
  'req.headers.cookie',
  'req.headers.authorization',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { app: 'server' } },
    destination ?? process.stdout,
  );
}
