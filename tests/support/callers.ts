import { join } from 'node:path';

import { appRouter, type Context, type EventFeed } from '@medaxis/api';
import { auditWriterFor } from '@medaxis/audit';
import type { Db } from '@medaxis/db';
import { repoRoot } from '@medaxis/db/testing';
import { loadPolicyConfig, type Actor, type Purpose } from '@medaxis/policy';

/** The repository's config/ as the server loads it. */
export const policyConfig = loadPolicyConfig(join(repoRoot, 'config'));

/** Tests that call procedures directly see no live feed. */
const silentFeed: EventFeed = { subscribe: () => () => {} };

/**
 * An actor holding `roles`: a user (assigned to `departments`), a wall display (bound to the
 * first department, or the whole hospital), or MedAxis itself.
 */
export function actorWith(roles: string[], departments: string[] | '*' = ['MED']): Actor {
  if (roles.length === 1 && roles[0] === 'system') {
    return { kind: 'system', id: 'system', roles: ['system'], departments: '*' };
  }
  if (roles.length === 1 && roles[0] === 'wall_display') {
    const board = departments === '*' ? null : (departments[0] ?? null);
    return {
      kind: 'device',
      id: `device-${board ?? 'hospital'}`,
      board,
      roles: ['wall_display'],
      departments: board === null ? '*' : [board],
    };
  }
  return {
    kind: 'user',
    id: `user-${roles.join('+')}-${departments === '*' ? 'all' : departments.join('+')}`,
    username: roles.join('+'),
    roles,
    departments,
    sessionId: 'test-session',
  };
}

/**
 * A caller of the API as `actor` for `purpose`, through the same middleware as HTTP and
 * websocket requests (the enforcement point runs on every call).
 */
export function callerFor(
  db: Db,
  actor: Actor | null,
  purpose: Purpose,
  options: { now?: () => Date; feed?: EventFeed; requestId?: string } = {},
) {
  const context: Context = {
    db,
    // The process's writer for this database, as the server's: real rows, durable per call.
    audit: auditWriterFor(db),
    feed: options.feed ?? silentFeed,
    requestId: options.requestId ?? 'test-request',
    now: options.now ?? (() => new Date()),
    roles: policyConfig.roles,
    policies: policyConfig.policies,
    actor,
    purpose,
    clientAddress: '127.0.0.1',
  };
  return appRouter.createCaller(context);
}
