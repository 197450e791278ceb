import { fileURLToPath } from 'node:url';

import { loadConsentPolicies } from './consent-policies.ts';
import { loadRoles } from './roles.ts';

/** The repository's own config/ files, as the server loads them. */
export function repositoryConfig() {
  const dir = fileURLToPath(new URL('../../../config/', import.meta.url));
  const roles = loadRoles(`${dir}roles.json`);
  return { dir, roles, policies: loadConsentPolicies(`${dir}consent_policies.json`, roles) };
}
