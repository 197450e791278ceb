import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Actor } from './actor.ts';
import { ConfigError } from './config.ts';
import { departmentScope, grants, loadRoles, parseRoles, requiredRoles } from './roles.ts';
import { repositoryConfig } from './test-config.ts';

const { roles } = repositoryConfig();
const file = 'config/roles.json';

/** The repository's roles file with one change made by `edit`. */
function rolesWith(edit: (raw: { roles: Record<string, Record<string, unknown>> }) => void) {
  const raw = JSON.parse(JSON.stringify({ roles: Object.fromEntries(roles) })) as {
    roles: Record<string, Record<string, unknown>>;
  };
  edit(raw);
  return raw;
}

function user(roleNames: string[], departments: string[] | '*' = ['MED']): Actor {
  return { kind: 'user', id: 'u1', username: 'u1', roles: roleNames, departments, sessionId: 's' };
}

describe('config/roles.json', () => {
  it('defines every role MedAxis relies on', () => {
    expect([...roles.keys()].sort()).toEqual([...requiredRoles].sort());
  });

  // The permissions each role holds, spelled out: a change to the file must change this table.
  const expected: Record<string, string[]> = {
    admin: [
      'board.read',
      'catalog.read',
      'census.read',
      'user.manage',
      'device.manage',
      'interface.read',
      'interface.manage',
      'import.read',
      'import.manage',
      'quality.read',
    ],
    bed_manager: [
      'board.read',
      'catalog.read',
      'census.read',
      'adt.write',
      'bed.write',
      'patient.read',
      'patient.search',
      'interface.read',
      'interface.manage',
      'import.read',
      'import.manage',
      'quality.read',
    ],
    charge_nurse: [
      'board.read',
      'catalog.read',
      'census.read',
      'adt.write',
      'bed.write',
      'patient.read',
      'patient.search',
    ],
    clinician: [
      'board.read',
      'catalog.read',
      'census.read',
      'patient.read',
      'patient.search',
      'patient.write',
      'consent.write',
      'breakglass.use',
    ],
    scheduler: ['catalog.read', 'census.read', 'patient.search', 'patient.read'],
    analyst: ['catalog.read', 'census.read', 'patient.export'],
    compliance_officer: ['catalog.read', 'audit.read', 'audit.review', 'audit.export'],
    wall_display: ['board.read'],
    system: [
      'board.read',
      'catalog.read',
      'census.read',
      'adt.write',
      'bed.write',
      'patient.read',
      'patient.search',
      'patient.export',
      'patient.write',
      'consent.write',
    ],
  };

  it.each(Object.entries(expected))('gives %s exactly its permissions', (name, permissions) => {
    expect([...roles.get(name)!.permissions].sort()).toEqual([...permissions].sort());
  });

  it.each([
    ['admin', 'all', ['operations'], 'none'],
    ['bed_manager', 'all', ['treatment', 'operations'], 'full'],
    ['charge_nurse', 'assigned', ['treatment', 'operations'], 'full'],
    ['clinician', 'assigned', ['treatment'], 'full'],
    ['scheduler', 'assigned', ['scheduling'], 'full'],
    ['analyst', 'all', ['analytics'], 'none'],
    ['compliance_officer', 'all', ['audit'], 'none'],
    ['wall_display', 'board', ['treatment', 'operations'], 'initials'],
  ])('scopes %s to %s departments, purposes %j, identity %s', (name, scope, purposes, identity) => {
    const role = roles.get(name)!;
    expect(role.departmentScope).toBe(scope);
    expect(role.purposes).toEqual(purposes);
    expect(role.identity).toBe(identity);
  });

  it('gives no person-facing role both patient identity and analytics', () => {
    for (const [name, role] of roles) {
      if (name === 'system') continue;
      expect(role.identity !== 'none' && role.purposes.includes('analytics'), name).toBe(false);
    }
  });
});

describe('roles loader', () => {
  it.each([
    [
      'an unknown permission',
      rolesWith((raw) => (raw.roles.clinician!.permissions = ['patient.read', 'patient.fly'])),
      `${file}: roles.clinician.permissions[1]: `,
    ],
    [
      'a permission listed twice',
      rolesWith((raw) => (raw.roles.analyst!.permissions = ['census.read', 'census.read'])),
      `${file}: roles.analyst.permissions: a permission is listed twice`,
    ],
    [
      'an unknown department scope',
      rolesWith((raw) => (raw.roles.scheduler!.departmentScope = 'some')),
      `${file}: roles.scheduler.departmentScope: `,
    ],
    [
      'an unknown purpose of use',
      rolesWith((raw) => (raw.roles.analyst!.purposes = ['analytics', 'curiosity'])),
      `${file}: roles.analyst.purposes[1]: `,
    ],
    [
      'a missing identity level',
      rolesWith((raw) => delete raw.roles.wall_display!.identity),
      `${file}: roles.wall_display.identity: `,
    ],
    [
      'an unknown key in a role',
      rolesWith((raw) => (raw.roles.admin!.permisions = [])),
      `${file}: roles.admin: Unrecognized key: "permisions"`,
    ],
    [
      'a role name that is not lower_snake_case',
      rolesWith((raw) => (raw.roles['Night-Nurse'] = raw.roles.charge_nurse!)),
      `${file}: roles.Night-Nurse: role names are lower_snake_case`,
    ],
    [
      'a missing required role',
      rolesWith((raw) => delete raw.roles.compliance_officer),
      `${file}: roles: missing required role(s) compliance_officer`,
    ],
    ['no roles key', {}, `${file}: roles: `],
  ])('refuses %s, naming the file and the key', (_case, raw, message) => {
    expect(() => parseRoles(raw, file)).toThrow(ConfigError);
    expect(() => parseRoles(raw, file)).toThrow(message);
  });

  it('refuses a file that is not JSON, naming it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'medaxis-roles-')), 'roles.json');
    writeFileSync(path, '{ "roles": { ');
    expect(() => loadRoles(path)).toThrow(`${path}: cannot read as JSON`);
  });

  it('refuses a missing file, naming it', () => {
    expect(() => loadRoles('/nonexistent/roles.json')).toThrow(
      '/nonexistent/roles.json: cannot read as JSON',
    );
  });
});

describe('grants', () => {
  it('denies by default: an unknown role grants nothing', () => {
    expect(grants(roles, user(['head_of_everything']), 'patient.read')).toBe(false);
    expect(grants(roles, user([]), 'board.read')).toBe(false);
  });

  it('grants what any of several roles grants', () => {
    const both = user(['analyst', 'scheduler']);
    expect(grants(roles, both, 'patient.export')).toBe(true);
    expect(grants(roles, both, 'patient.search')).toBe(true);
    expect(grants(roles, both, 'adt.write')).toBe(false);
  });
});

describe('departmentScope', () => {
  it('gives assigned roles the user’s departments', () => {
    expect(departmentScope(roles, user(['charge_nurse'], ['MED', 'SUR']), 'patient.read')).toEqual([
      'MED',
      'SUR',
    ]);
  });

  it('lets the widest role that grants the permission win', () => {
    const actor = user(['charge_nurse', 'bed_manager'], ['MED']);
    expect(departmentScope(roles, actor, 'patient.read')).toBe('*');
    // analyst does not grant board.read, so its 'all' scope does not widen the board.
    expect(
      departmentScope(roles, user(['charge_nurse', 'analyst'], ['MED']), 'board.read'),
    ).toEqual(['MED']);
  });

  it('binds a wall display to its board', () => {
    const device: Actor = {
      kind: 'device',
      id: 'd1',
      board: 'ICU',
      roles: ['wall_display'],
      departments: ['ICU'],
    };
    expect(departmentScope(roles, device, 'board.read')).toEqual(['ICU']);
    expect(departmentScope(roles, { ...device, board: null }, 'board.read')).toBe('*');
  });

  it('gives nothing for a permission no role of the actor grants', () => {
    expect(departmentScope(roles, user(['wall_display']), 'patient.read')).toEqual([]);
  });
});
