import { readFileSync } from 'node:fs';

import type { z } from 'zod';

/** A policy file that cannot be used: the message names the file and the key at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads a JSON policy file; a missing or malformed file is a ConfigError naming it. */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: cannot read as JSON (${(error as Error).message})`);
  }
}

/** `roles.nurse.permissions[2]` for the path ['roles', 'nurse', 'permissions', 2]. */
export function keyOf(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
}

/** Parses `raw` with `schema`; the first problem becomes `<file>: <key>: <message>`. */
export function parseWith<T extends z.ZodType>(schema: T, raw: unknown, file: string): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${file}: ${keyOf(issue.path) || '(top level)'}: ${innermostMessage(issue)}`,
    );
  }
  return parsed.data;
}

/** zod wraps a bad record key's own message ('role names are …') in 'Invalid key in record'. */
function innermostMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key' && issue.issues[0]) return innermostMessage(issue.issues[0]);
  return issue.message;
}
