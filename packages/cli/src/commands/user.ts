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
import { loadRoles } from '@medaxis/policy';
import type { Command } from 'commander';

import { openDatabase, repoRoot } from '../context.ts';

interface PasswordSource {
  passwordStdin?: boolean;
}

/** `medaxis user add | disable | reset-password`: accounts for people, for setup and support. */
export function registerUser(program: Command): void {
  const user = program.command('user').description('add, disable or reset users who sign in');

  user
    .command('add <username>')
    .description('add a user; roles come from config/roles.json')
    .requiredOption('--role <role...>', 'one or more roles (e.g. bed_manager, charge_nurse)')
    .option('--department <code...>', 'departments, for roles that see assigned ones only')
    .option('--name <display name>', 'how the user is shown (default: the username)')
    .option('--password-stdin', 'read the password from standard input (else: prompt)')
    .action(
      async (
        username: string,
        options: PasswordSource & { role: string[]; department?: string[]; name?: string },
      ) => {
        const roles = loadRoles(join(configDir(), 'roles.json'));
        // Everything about the request is checked before a password is asked for.
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
          const scope = added.departments.length > 0 ? ` in ${added.departments.join(', ')}` : '';
          say(`added ${added.username} (${added.roles.join(', ')}${scope})`);
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
    .option('--password-stdin', 'read the new password from standard input (else: prompt)')
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
