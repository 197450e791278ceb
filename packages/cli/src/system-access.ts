import { join } from 'node:path';

import type { PatientAccess } from '@medaxis/db';
import { decideAccess, loadPolicyConfig, type Actor, type Permission } from '@medaxis/policy';

import { repoRoot } from './context.ts';

const system: Actor = { kind: 'system', id: 'system', roles: ['system'], departments: '*' };

/**
 * What the system may reach when a CLI command imports or exports patient data: the same
 * access decision as every API call (config/roles.json, consent policies), for purpose of use
 * `operations`. A configuration that denies it stops the command before it touches anything.
 */
export function systemAccess(permission: Permission, now = new Date()): PatientAccess {
  const config = loadPolicyConfig(process.env.MEDAXIS_CONFIG_DIR ?? join(repoRoot, 'config'));
  const decision = decideAccess({
    roles: config.roles,
    policies: config.policies,
    actor: system,
    permission,
    purpose: 'operations',
    patientData: true,
    breakGlass: [],
    now,
  });
  if (!decision.allow) {
    throw new Error(`the system role may not use ${permission} (${decision.reason})`);
  }
  return { filter: decision.rowFilter, mask: decision.fieldMask };
}
