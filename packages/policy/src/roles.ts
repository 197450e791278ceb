import { z } from 'zod';

import { purposes, type Actor, type Purpose } from './actor.ts';
import { ConfigError, parseWith, readJsonFile } from './config.ts';
import { permissions, type Permission } from './permissions.ts';

/**
 * How much of a patient's identity a role may see where consent allows: `full` (MRN, name,
 * birth date, sex), `initials` (what a wall board may show), or `none` (figures and
 * de-identified rows only, without even the opaque ids).
 */
export const identityLevels = ['none', 'initials', 'full'] as const;
export type IdentityLevel = (typeof identityLevels)[number];

const roleSchema = z
  .object({
    description: z.string().min(1),
    departmentScope: z.enum(['all', 'assigned', 'board']),
    permissions: z
      .array(z.enum(permissions))
      .min(1)
      .refine((list) => new Set(list).size === list.length, 'a permission is listed twice'),
    /** Purposes of use the role may declare; a request under any other reaches no patient. */
    purposes: z.array(z.enum(purposes)).min(1),
    identity: z.enum(identityLevels),
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
export type NamedRole = RoleDefinition & { name: string };

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

/**
 * Reads and checks config/roles.json. Any problem stops start-up with a message naming the
 * file and the key, e.g. `config/roles.json: roles.nurse.permissions[2]: invalid option`.
 */
export function loadRoles(file: string): Roles {
  return parseRoles(readJsonFile(file), file);
}

export function parseRoles(raw: unknown, file = 'roles.json'): Roles {
  const parsed = parseWith(rolesFileSchema, raw, file);
  const roles = new Map(Object.entries(parsed.roles));
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
 * The actor's roles that grant `permission`, and, when `purpose` is given, allow that purpose
 * of use too. Every other answer about the request is taken over these roles only: a user who
 * is both clinician and analyst reads as a clinician for treatment and as an analyst for
 * analytics, never as a mix.
 */
export function rolesFor(
  roles: Roles,
  actor: Actor,
  permission: Permission,
  purpose?: Purpose,
): NamedRole[] {
  const found: NamedRole[] = [];
  for (const name of actor.roles) {
    const role = roles.get(name);
    if (!role?.permissions.includes(permission)) continue;
    if (purpose !== undefined && !role.purposes.includes(purpose)) continue;
    found.push({ ...role, name });
  }
  return found;
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
  return scopeOf(actor, rolesFor(roles, actor, permission));
}

/** The widest department scope among `granting` (roles of `actor`). */
export function scopeOf(
  actor: Actor,
  granting: readonly RoleDefinition[],
): readonly string[] | '*' {
  const scopes = new Set<string>();
  for (const role of granting) {
    if (role.departmentScope === 'all') return '*';
    if (role.departmentScope === 'board' && actor.kind === 'device') {
      if (actor.board === null) return '*';
      scopes.add(actor.board);
    }
    if (role.departmentScope === 'assigned') {
      if (actor.departments === '*') return '*';
      for (const code of actor.departments) scopes.add(code);
    }
  }
  return [...scopes];
}

/** The most identity any of `granting` may see. */
export function identityOf(granting: readonly RoleDefinition[]): IdentityLevel {
  let widest: IdentityLevel = 'none';
  for (const role of granting) {
    if (identityLevels.indexOf(role.identity) > identityLevels.indexOf(widest)) {
      widest = role.identity;
    }
  }
  return widest;
}
