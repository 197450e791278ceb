import { addUser, disableUser, generatePassword, resetPassword } from '@medaxis/auth';
import { listUsers, type UserRow } from '@medaxis/db';
import { z } from 'zod';

import { audited } from './devices.ts';
import { departmentCode } from './inputs.ts';
import { procedure, router } from './trpc.ts';

/** A user as an admin sees it: no password hash, ever. */
export interface UserView {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  departments: string[];
  active: boolean;
  passwordChangedAt: string;
}

const username = z.string().trim().min(1).max(63);

/** People who sign in: list, add, disable, reset a password (user.manage). */
export const usersRouter = router({
  list: procedure
    .meta({ permission: 'user.manage' })
    .query(async ({ ctx }) => (await listUsers(ctx.db)).map(toUserView)),

  /**
   * Adds a user. Roles must exist in config/roles.json (an unknown one is refused, naming the
   * known ones); without a password a random one is made and returned this once.
   */
  add: procedure
    .meta({ permission: 'user.manage' })
    .input(
      z
        .object({
          username,
          displayName: z.string().trim().min(1).max(100).optional(),
          roles: z.array(z.string().trim().min(1).max(64)).min(1).max(10),
          departments: z.array(departmentCode).max(100).optional(),
          password: z.string().min(1).max(256).optional(),
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      const password = input.password ?? generatePassword();
      const user = await audited(
        ctx,
        ctx.access,
        { action: 'user_added', username: input.username },
        () => addUser(ctx.db, ctx.roles, { ...input, password }),
        (added) => added.id,
      );
      return {
        user: toUserView(user),
        password: input.password === undefined ? password : null,
      };
    }),

  /** Deactivates a user; every session of theirs ends now. */
  disable: procedure
    .meta({ permission: 'user.manage' })
    .input(z.object({ username }).strict())
    .mutation(async ({ ctx, input }) => {
      const { user, sessionsEnded } = await audited(
        ctx,
        ctx.access,
        { action: 'user_disabled', username: input.username },
        () => disableUser(ctx.db, input.username),
        (result) => result.user.id,
      );
      return { user: toUserView(user), sessionsEnded };
    }),

  /** Sets a new random password, returned this once; every session of the user ends. */
  resetPassword: procedure
    .meta({ permission: 'user.manage' })
    .input(z.object({ username }).strict())
    .mutation(async ({ ctx, input }) => {
      const password = generatePassword();
      const { user, sessionsEnded } = await audited(
        ctx,
        ctx.access,
        { action: 'password_reset', username: input.username },
        () => resetPassword(ctx.db, input.username, password, ctx.now()),
        (result) => result.user.id,
      );
      return { user: toUserView(user), password, sessionsEnded };
    }),
});

function toUserView(user: UserRow): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    roles: user.roles,
    departments: user.departments,
    active: user.active,
    passwordChangedAt: user.passwordChangedAt.toISOString(),
  };
}
