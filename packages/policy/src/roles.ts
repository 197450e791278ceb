import { readFileSync } from 'node:fs';

import { z } from 'zod';

import type { Actor } from './actor.ts';
import { permissions, type Permission } from './permissions.ts';

const roleSchema = z
  .object({
    description: z.string().min(1),
    departmentScope: z.enum(['all', 'assigned', 'board']),
    permissions: z.array(z.enum(permissions)).min(1),
  })
  .strict();

const rolesFileSchema = z
  .object({
    $comment: z.string().optional(),
    roles: z.record(z.string().regex(/^[a-z_]+$/, 'role names are lower_snake_case'), roleSchema),
  })
  .strict();

export type RoleDefinition = z.infer<typeof roleSchema>;
export type Roles = ReadonlyMap<string, RoleDefinition>;

/** Roles MedAxis itself relies on; the file must define them. */
export const requiredRoles = [
  'admin',
  'bed_manager',
  'charge_nurse',
  'clinician',
  'scheduler',
  'analyst',
  'compliance_officer',
  'wall_display',
  'system',
] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and checks config/roles.json. Any problem stops start-up with a message naming the
 * file and the key, e.g. `config/roles.json: roles.nurse.permissions[2]: invalid option`.
 */
export function loadRoles(file: string): Roles {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: cannot read as JSON (${(error as Error).message})`);
  }
  return parseRoles(raw, file);
}

export function parseRoles(raw: unknown, file = 'roles.json'): Roles {
  const parsed = rolesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.map((part) =>
      typeof part === 'number' ? `[${part}]` : `.${String(part)}`,
    );
    throw new ConfigError(`${file}: ${key.join('').replace(/^\./, '')}: ${issue.message}`);
  }
  const roles = new Map(Object.entries(parsed.data.roles));
  const missing = requiredRoles.filter((role) => !roles.has(role));
  if (missing.length > 0) {
    throw new ConfigError(`${file}: roles: missing required role(s) ${missing.join(', ')}`);
  }
  return roles;
}

/** Unknown role names (from a user record or token) grant nothing: deny by default. */
export function grants(roles: Roles, actor: Actor, permission: Permission): boolean {
  return actor.roles.some((role) => roles.get(role)?.permissions.includes(permission) ?? false);
}

/**
 * The departments an actor may see for a permission: '*' for all, else a list of codes. The
 * widest scope among the actor's roles that grant the permission wins.
 */
export function departmentScope(
  roles: Roles,
  actor: Actor,
  permission: Permission,
): readonly string[] | '*' {
  const scopes = new Set<string>();
  for (const name of actor.roles) {
    const role = roles.get(name);
    if (!role?.permissions.includes(permission)) continue;
    if (role.departmentScope === 'all') return '*';
    if (role.departmentScope === 'board' && actor.kind === 'device') {
      if (actor.board === null) return '*';
      scopes.add(actor.board);
    }
    if (role.departmentScope === 'assigned' && actor.departments !== '*') {
      for (const code of actor.departments) scopes.add(code);
    }
    if (role.departmentScope === 'assigned' && actor.departments === '*') return '*';
  }
  return [...scopes];
}
