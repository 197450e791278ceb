import { join } from 'node:path';

import {
  addUser,
  auditAuthEvent,
  deviceSetupUrl,
  generatePassword,
  issueDeviceToken,
} from '@medaxis/auth';
import { countUsers, type Db } from '@medaxis/db';
import { isMedaxisError } from '@medaxis/domain';
import { loadRoles } from '@medaxis/policy';

import { repoRoot } from '../context.ts';

export interface DemoAccess {
  /** The first admin, created on this start: its password exists nowhere else. */
  admin: { username: string; password: string } | null;
  /** Sets up the browser that opens it as a display of the hospital's board. */
  boardUrl: string;
}

/** A launcher's display link stays valid this long; a real display gets its own from an admin. */
const boardTokenDays = 30;
const actor = { kind: 'system' as const, id: 'npm start' };

/**
 * The display link `npm start` issues: its label, and no issuer (MedAxis itself, not a user).
 * `npm start` finds the links earlier starts issued by these (commands/start.ts).
 */
export const launcherDisplay = { label: 'Hospital board (npm start)', issuedBy: null } as const;

/**
 * What `npm start` needs to be usable at once: on the first start (no user yet) an admin with a
 * random password, printed once; on every start a device token for the hospital's board, so
 * the printed board URL opens the board without signing in, as the README promises.
 */
export async function ensureDemoAccess(db: Db, origin: string): Promise<DemoAccess> {
  let admin: DemoAccess['admin'] = null;
  if ((await countUsers(db)) === 0) {
    const roles = loadRoles(
      join(process.env.MEDAXIS_CONFIG_DIR ?? join(repoRoot, 'config'), 'roles.json'),
    );
    const password = generatePassword();
    try {
      const user = await addUser(db, roles, { username: 'admin', password, roles: ['admin'] });
      await auditAuthEvent(db, {
        action: 'user_added',
        outcome: 'success',
        actor,
        username: user.username,
        target: user.id,
      });
      admin = { username: user.username, password };
    } catch (error) {
      // Another launcher on the same database made it first: its output has the password.
      if (!isMedaxisError(error) || error.reason !== 'username_taken') throw error;
    }
  }

  const { token, device } = await issueDeviceToken(
    db,
    {
      ...launcherDisplay,
      board: null,
      expiresInDays: boardTokenDays,
    },
    new Date(),
  );
  await auditAuthEvent(db, {
    action: 'device_issued',
    outcome: 'success',
    actor,
    target: device.id,
  });
  return { admin, boardUrl: deviceSetupUrl(origin, token) };
}
