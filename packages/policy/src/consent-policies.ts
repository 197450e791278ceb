import { join } from 'node:path';

import { z } from 'zod';

import { purposes } from './actor.ts';
import { ConfigError, keyOf, parseWith, readJsonFile } from './config.ts';
import { loadRoles, type Roles } from './roles.ts';

const common = {
  description: z.string().min(1),
  /** The state of a patient with no consent record in effect for the policy. */
  default: z.enum(['permit', 'restrict']),
};

const policySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('privacy'), ...common, visibleTo: z.array(z.string()) }).strict(),
  z.object({ kind: z.literal('sensitivity'), ...common, visibleTo: z.array(z.string()) }).strict(),
  z
    .object({
      kind: z.literal('secondary_use'),
      ...common,
      purposes: z.array(z.enum(purposes)).min(1),
    })
    .strict(),
]);

const breakGlassSchema = z
  .object({
    defaultMinutes: z.number().int().positive(),
    maxMinutes: z.number().int().positive(),
    minReasonLength: z.number().int().min(1),
  })
  .strict()
  .refine((value) => value.defaultMinutes <= value.maxMinutes, {
    message: 'defaultMinutes exceeds maxMinutes',
    path: ['defaultMinutes'],
  });

const fileSchema = z
  .object({
    $comment: z.string().optional(),
    policies: z.record(
      z.string().regex(/^[a-z_]+$/, 'policy names are lower_snake_case'),
      policySchema,
    ),
    breakGlass: breakGlassSchema,
  })
  .strict();

export type ConsentPolicy = z.infer<typeof policySchema> & { name: string };
export type BreakGlassSettings = z.infer<typeof breakGlassSchema>;

export interface ConsentPolicies {
  policies: ReadonlyMap<string, ConsentPolicy>;
  breakGlass: BreakGlassSettings;
}

/**
 * Reads and checks config/consent_policies.json against the roles it names. Any problem stops
 * start-up with the file and the key, e.g. `consent_policies.json: policies.vip.visibleTo[1]:
 * unknown role "nurse"`.
 */
export function loadConsentPolicies(file: string, roles: Roles): ConsentPolicies {
  return parseConsentPolicies(readJsonFile(file), roles, file);
}

export function parseConsentPolicies(
  raw: unknown,
  roles: Roles,
  file = 'consent_policies.json',
): ConsentPolicies {
  const parsed = parseWith(fileSchema, raw, file);
  const policies = new Map<string, ConsentPolicy>();
  for (const [name, policy] of Object.entries(parsed.policies)) {
    if (policy.kind !== 'secondary_use') {
      // A typo here would silently hide patients from a role that needs them.
      policy.visibleTo.forEach((role, index) => {
        if (!roles.has(role)) {
          const key = keyOf(['policies', name, 'visibleTo', index]);
          throw new ConfigError(`${file}: ${key}: unknown role "${role}"`);
        }
      });
    }
    policies.set(name, { ...policy, name });
  }
  return { policies, breakGlass: parsed.breakGlass };
}

/**
 * roles.json and consent_policies.json from one folder (config/), each checked, the consent
 * file against the roles it names. Throws ConfigError naming the file and the key.
 */
export function loadPolicyConfig(dir: string): { roles: Roles; policies: ConsentPolicies } {
  const roles = loadRoles(join(dir, 'roles.json'));
  return { roles, policies: loadConsentPolicies(join(dir, 'consent_policies.json'), roles) };
}
