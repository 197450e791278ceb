import {
  deleteUserSessions,
  findUserById,
  findUserByUsername,
  insertUser,
  listDepartments,
  lockUser,
  setUserActive,
  setUserPassword,
  withTransaction,
  type Db,
  type UserRow,
} from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import type { Roles } from '@medaxis/policy';

import { checkNewPassword, hashPassword, unknownUserHash, verifyPassword } from './passwords.ts';
import { createSession, defaultSessionPolicy, type NewSession } from './sessions.ts';
import type { SessionMeta, SessionPolicy } from './sessions.ts';

/** Lower case letters, digits, `.`, `_`, `-`; 2–63 characters (the table checks it too). */
const usernameForm = /^[a-z0-9][a-z0-9._-]{1,62}$/;

/** Roles MedAxis gives to things, never to a person who signs in. */
const rolesNotForPeople = new Set(['system', 'wall_display']);

export interface NewUser {
  username: string;
  displayName?: string | undefined;
  password: string;
  roles: readonly string[];
  departments?: readonly string[] | undefined;
}

/** Usernames compare without regard to case or surrounding blanks. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/**
 * Adds a user who can sign in. Everything is checked before anything is written: the username,
 * each role against config/roles.json, the departments against the catalog (a role scoped to
 * assigned departments needs at least one) and the password's length. A refusal is a
 * VALIDATION or CONFLICT error naming what to fix; nothing is written then.
 */
export async function addUser(db: Db, roles: Roles, input: NewUser): Promise<UserRow> {
  const username = normalizeUsername(input.username);
  if (!usernameForm.test(username)) {
    throw new MedaxisError(
      ErrorCode.validation,
      'invalid_username',
      'A username has 2–63 characters: letters, digits, ".", "_" or "-", starting with a ' +
        'letter or digit.',
    );
  }
  const wanted = [...new Set(input.roles.map((role) => role.trim()))];
  const departments = [...new Set((input.departments ?? []).map((code) => code.trim()))];
  checkRoles(roles, wanted, departments);
  await checkDepartments(db, departments);
  checkNewPassword(input.password);

  const passwordHash = await hashPassword(input.password);
  return insertUser(db, {
    username,
    displayName: input.displayName?.trim() || username,
    passwordHash,
    roles: wanted,
    departments,
  });
}

function checkRoles(roles: Roles, wanted: readonly string[], departments: readonly string[]) {
  if (wanted.length === 0) {
    throw new MedaxisError(ErrorCode.validation, 'role_required', 'A user needs a role.');
  }
  const unknown = wanted.filter((role) => !roles.has(role));
  if (unknown.length > 0) {
    const known = [...roles.keys()].filter((role) => !rolesNotForPeople.has(role));
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_role',
      `Unknown role ${unknown.join(', ')}: config/roles.json defines ${known.join(', ')}.`,
    );
  }
  const notForPeople = wanted.filter((role) => rolesNotForPeople.has(role));
  if (notForPeople.length > 0) {
    throw new MedaxisError(
      ErrorCode.validation,
      'role_not_for_people',
      `The ${notForPeople.join(', ')} role is not given to people.`,
    );
  }
  const scoped = wanted.filter((role) => roles.get(role)?.departmentScope === 'assigned');
  if (scoped.length > 0 && departments.length === 0) {
    throw new MedaxisError(
      ErrorCode.validation,
      'departments_required',
      `The ${scoped.join(', ')} role sees only assigned departments: name at least one.`,
    );
  }
  // Departments narrow only roles scoped to assigned ones: given with roles that all see every
  // department they would be stored, shown, and grant nothing less than the whole hospital.
  if (scoped.length === 0 && departments.length > 0) {
    throw new MedaxisError(
      ErrorCode.validation,
      'departments_not_applicable',
      `The ${wanted.join(', ')} role sees every department (config/roles.json): departments ` +
        'cannot narrow it. Leave them out, or add a role scoped to assigned departments.',
    );
  }
}

async function checkDepartments(db: Db, departments: readonly string[]) {
  if (departments.length === 0) return;
  const known = new Set((await listDepartments(db)).map((d) => d.code));
  const unknown = departments.filter((code) => !known.has(code));
  if (unknown.length > 0) {
    throw new MedaxisError(
      ErrorCode.validation,
      'unknown_department',
      `No department ${unknown.join(', ')} on this site.`,
    );
  }
}

/** Why a sign-in failed. The client hears only "wrong username or password". */
export type SignInRefusal = 'unknown_user' | 'wrong_password' | 'user_disabled';

export type SignInResult =
  | ({ ok: true; user: UserRow } & NewSession)
  | { ok: false; reason: SignInRefusal; user: UserRow | undefined };

/**
 * Checks a username and password and opens a session. An unknown username costs the same
 * argon2 work as a wrong password, and a disabled user is told nothing more than either.
 */
export async function signIn(
  db: Db,
  credentials: { username: string; password: string },
  meta: SessionMeta,
  now: Date,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<SignInResult> {
  const found = await findUserByUsername(db, normalizeUsername(credentials.username));
  const matches = await verifyPassword(
    found?.passwordHash ?? (await unknownUserHash()),
    credentials.password,
  );
  if (!found) return { ok: false, reason: 'unknown_user', user: undefined };
  const { passwordHash: _hash, ...user } = found;
  if (!matches) return { ok: false, reason: 'wrong_password', user };
  if (!user.active) return { ok: false, reason: 'user_disabled', user };

  const session = await createSession(db, user.id, meta, now, policy);
  return { ok: true, user, ...session };
}

/**
 * Deactivates a user and ends every session of theirs, in one transaction: once this returns,
 * no request of theirs is served (open websockets close at the server's next check).
 */
export async function disableUser(
  db: Db,
  username: string,
): Promise<{ user: UserRow; sessionsEnded: number }> {
  return withTransaction(db, async (tx) => {
    const user = await lockUserByName(tx, username);
    await setUserActive(tx, user.id, false);
    const sessionsEnded = await deleteUserSessions(tx, user.id);
    return { user: { ...user, active: false }, sessionsEnded };
  });
}

/** Sets a new password chosen by an administrator and ends every session of the user. */
export async function resetPassword(
  db: Db,
  username: string,
  password: string,
  now: Date,
): Promise<{ user: UserRow; sessionsEnded: number }> {
  checkNewPassword(password);
  const passwordHash = await hashPassword(password);
  return withTransaction(db, async (tx) => {
    const user = await lockUserByName(tx, username);
    await setUserPassword(tx, user.id, passwordHash, now);
    const sessionsEnded = await deleteUserSessions(tx, user.id);
    return { user: { ...user, passwordChangedAt: now }, sessionsEnded };
  });
}

/**
 * A signed-in user changes their own password: the current one must match. Every session of
 * theirs ends, this one too (a thief holding another session is out), and a new session is
 * opened for the browser that made the change.
 */
export async function changePassword(
  db: Db,
  userId: string,
  passwords: { current: string; next: string },
  meta: SessionMeta,
  now: Date,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<NewSession & { sessionsEnded: number }> {
  checkNewPassword(passwords.next);
  const user = await findUserById(db, userId);
  if (!user?.active || !(await verifyPassword(user.passwordHash, passwords.current))) {
    throw new MedaxisError(
      ErrorCode.unauthorized,
      'wrong_password',
      'The current password is not right.',
    );
  }
  const passwordHash = await hashPassword(passwords.next);
  return withTransaction(db, async (tx) => {
    await lockUser(tx, userId);
    await setUserPassword(tx, userId, passwordHash, now);
    const sessionsEnded = await deleteUserSessions(tx, userId);
    return { ...(await createSession(tx, userId, meta, now, policy)), sessionsEnded };
  });
}

async function lockUserByName(tx: Parameters<typeof lockUser>[0], username: string) {
  const found = await findUserByUsername(tx, normalizeUsername(username));
  const locked = found && (await lockUser(tx, found.id));
  if (!locked) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_user', `No user named ${username}.`);
  }
  const { passwordHash: _hash, ...user } = locked;
  return user;
}
