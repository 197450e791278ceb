import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

import {
  addUser,
  auditAuthEvent,
  disableUser,
  resetPassword,
  type AuthAuditEvent,
} from '@medaxis/auth';
import type { Db } from '@medaxis/db';
import { isMedaxisError } from '@medaxis/domain';
import { loadRoles, type Roles } from '@medaxis/policy';
import type { Command } from 'commander';

import { openDatabase, repoRoot } from '../context.ts';

interface PasswordSource {
  passwordStdin?: boolean;
}

/** `medaxis user add | disable | reset-password`: accounts for people, for setup and support. */
export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('add, disable or reset users who sign in')
    .addHelpText(
      'after',
      '\nadd and reset-password prompt for the password on a terminal; without one (scripts,\n' +
        'CI, a pipe) they need --password-stdin.\n' +
        passwordStdinExample('add bm1 --role bed_manager'),
    );

  user
    .command('add <username>')
    .description('add a user; roles and their department scope come from config/roles.json')
    .requiredOption('--role <role...>', 'one or more roles (e.g. bed_manager, charge_nurse)')
    .option(
      '--department <code...>',
      'the departments a role scoped to assigned departments sees (e.g. charge_nurse); ' +
        'refused for roles that see every department',
    )
    .option('--name <display name>', 'how the user is shown (default: the username)')
    .option('--password-stdin', passwordStdinHelp)
    .addHelpText('after', passwordStdinExample('add bm1 --role bed_manager'))
    .action(
      async (
        username: string,
        options: PasswordSource & { role: string[]; department?: string[]; name?: string },
      ) => {
        const roles = loadRoles(join(configDir(), 'roles.json'));
        // What config/roles.json alone decides is checked before a password is asked for.
        assertDepartmentsFit(roles, options.role, options.department ?? []);
        const password = await readPassword(options);
        await withDatabase(async (db) => {
          const added = await audited(db, { action: 'user_added', username }, () =>
            addUser(db, roles, {
              username,
              displayName: options.name,
              password,
              roles: options.role,
              departments: options.department,
            }),
          );
          say(`added ${added.username}: ${describeAccess(roles, added)}`);
        });
      },
    );

  user
    .command('disable <username>')
    .description('deactivate a user and end every session of theirs')
    .action(async (username: string) => {
      await withDatabase(async (db) => {
        const { sessionsEnded } = await audited(db, { action: 'user_disabled', username }, () =>
          disableUser(db, username),
        );
        say(`disabled ${username}; ${sessionsEnded} session(s) ended`);
      });
    });

  user
    .command('reset-password <username>')
    .description("set a new password and end every session of the user's")
    .option('--password-stdin', passwordStdinHelp)
    .addHelpText('after', passwordStdinExample('reset-password bm1'))
    .action(async (username: string, options: PasswordSource) => {
      const password = await readPassword(options);
      await withDatabase(async (db) => {
        const { sessionsEnded } = await audited(db, { action: 'password_reset', username }, () =>
          resetPassword(db, username, password, new Date()),
        );
        say(`new password set for ${username}; ${sessionsEnded} session(s) ended`);
      });
    });
}

const passwordStdinHelp =
  'read the password from standard input, needed without a terminal (else: a prompt)';
/** Help text: how a script passes the password, shown under `user`, `add`, `reset-password`. */
const passwordStdinExample = (command: string) =>
  '\nExample, in a script:\n' +
  `  printf '%s' "$PASSWORD" | npx medaxis user ${command} --password-stdin`;

/**
 * Refuses departments that would grant nothing, before anything is written: `--department`
 * narrows only roles scoped to assigned departments, so given with roles that all see every
 * department it would mislead the administrator about the access granted. A role scoped to
 * assigned departments without any would see nothing (addUser refuses that too, audited).
 * Unknown roles are left to addUser, which names the known ones.
 */
function assertDepartmentsFit(roles: Roles, wanted: string[], departments: string[]) {
  const definitions = wanted.map((name) => ({ name, role: roles.get(name) }));
  if (definitions.some(({ role }) => role === undefined)) return;
  const assigned = definitions.filter(({ role }) => role?.departmentScope === 'assigned');

  const widest = definitions.filter(({ role }) => role?.departmentScope === 'all');

  if (departments.length > 0 && widest.length === definitions.length) {
    throw new Error(
      `--department cannot narrow ${listNames(widest)}: config/roles.json gives ` +
        `${widest.length === 1 ? 'it' : 'them'} departmentScope "all" (every department). ` +
        'Leave out --department, or choose a role scoped to assigned departments ' +
        `(${namesWithScope(roles, 'assigned')}).`,
    );
  }
  if (departments.length === 0 && assigned.length > 0) {
    throw new Error(
      `${listNames(assigned)} ${assigned.length === 1 ? 'sees' : 'see'} only the ` +
        'departments assigned to the user (config/roles.json: departmentScope "assigned"): ' +
        'name them with --department <code...>.',
    );
  }
}

/** Each role with what it sees, e.g. "bed_manager in all departments, charge_nurse in MED". */
function describeAccess(roles: Roles, user: { roles: string[]; departments: string[] }) {
  return user.roles
    .map((name) => {
      const scope = roles.get(name)?.departmentScope;
      return scope === 'all'
        ? `${name} in all departments`
        : `${name} in ${user.departments.join(', ')}`;
    })
    .join(', ');
}

const listNames = (definitions: { name: string }[]) =>
  definitions.map(({ name }) => name).join(', ');

function namesWithScope(roles: Roles, scope: string) {
  return [...roles]
    .filter(([, role]) => role.departmentScope === scope)
    .map(([name]) => name)
    .join(', ');
}

function configDir() {
  return process.env.MEDAXIS_CONFIG_DIR ?? join(repoRoot, 'config');
}

const say = (message: string) => process.stdout.write(`medaxis: ${message}\n`);

async function withDatabase(work: (db: Db) => Promise<void>) {
  const database = await openDatabase({ log: (message) => console.error(message) });
  try {
    await work(database.db);
  } finally {
    await database.close();
  }
}

/**
 * Runs a change and records it through the auth audit hook, done or refused; a refusal is then
 * thrown on, and main.ts prints its message (it names what to fix, e.g. the known roles).
 */
async function audited<T>(
  db: Db,
  event: Pick<AuthAuditEvent, 'action' | 'username'>,
  work: () => Promise<T>,
): Promise<T> {
  const actor = { kind: 'cli' as const, id: userInfo().username };
  try {
    const result = await work();
    await auditAuthEvent(db, { ...event, actor, outcome: 'success' });
    return result;
  } catch (error) {
    const reason = isMedaxisError(error) ? error.reason : 'error';
    await auditAuthEvent(db, { ...event, actor, outcome: 'failure', reason });
    throw error;
  }
}

/** The password from stdin (`--password-stdin`, for scripts) or a prompt that echoes nothing. */
async function readPassword(options: PasswordSource): Promise<string> {
  if (options.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  if (!process.stdin.isTTY) {
    throw new Error('no terminal to ask for a password: pass it with --password-stdin');
  }
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Again: ');
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  // Typed characters go to a sink, not the terminal.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) => {
    reader.question('', (answer) => {
      reader.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
