import type { Actor, Purpose } from './actor.ts';
import { isBreakGlassActive, type BreakGlassGrant } from './break-glass.ts';
import type { ConsentPolicies } from './consent-policies.ts';
import type { ConsentState } from './consent.ts';
import type { Permission } from './permissions.ts';
import { identityOf, rolesFor, scopeOf, type IdentityLevel, type Roles } from './roles.ts';

/** Breaking the glass is for the patient's care, never for operations or analytics. */
export const breakGlassPurpose: Purpose = 'treatment';

declare const rowFilterBrand: unique symbol;

/**
 * Which patients a request may see, as data that packages/db turns into SQL (and that
 * `patientInView` applies to one patient in memory). Only `decideAccess` makes one: the
 * patient repository functions require it, so no query reaches patient data around the
 * decision.
 */
export interface RowFilter {
  readonly [rowFilterBrand]: true;
  /** Departments whose patients are in view (by current bed or open encounter), or '*'. */
  readonly departments: readonly string[] | '*';
  /** A patient restricted under any of these policies (default permit) is out of view... */
  readonly hideIfRestricted: readonly string[];
  /** ...and so is one not granted under any of these (policies restricted by default). */
  readonly hideUnlessGranted: readonly string[];
  /** Patients in view despite those restrictions, through the actor's active break-glass. */
  readonly breakGlassPatients: readonly string[];
  /** The instant consent is evaluated at. */
  readonly at: Date;
}

/** Identity fields a response may carry; every other field of a patient is operational. */
export const identityFields = ['patientId', 'mrn', 'name', 'birthDate', 'sex', 'initials'] as const;
export type IdentityField = (typeof identityFields)[number];

/** Which identity fields of a patient in view the request may see. */
export interface FieldMask {
  level: IdentityLevel;
  fields: ReadonlySet<IdentityField>;
}

const masks: Record<IdentityLevel, FieldMask> = {
  full: { level: 'full', fields: new Set(identityFields) },
  initials: { level: 'initials', fields: new Set(['initials']) },
  none: { level: 'none', fields: new Set() },
};

export interface AccessRequest {
  roles: Roles;
  policies: ConsentPolicies;
  actor: Actor;
  permission: Permission;
  purpose: Purpose;
  /** The procedure reads or writes patient data: a purpose the roles do not allow refuses it. */
  patientData: boolean;
  /** The actor's break-glass overrides; only those active at `now` count. */
  breakGlass: readonly BreakGlassGrant[];
  now: Date;
}

export type DenyReason = 'permission_not_granted' | 'purpose_not_allowed';

export interface AccessDenied {
  allow: false;
  reason: DenyReason;
}

export interface AccessGranted {
  allow: true;
  /** Department codes the request may see, or '*'. */
  departments: readonly string[] | '*';
  rowFilter: RowFilter;
  fieldMask: FieldMask;
  /** The purpose the audit trail records. */
  auditPurpose: Purpose;
  /** An override is in effect for this request: what it reveals is flagged for review. */
  breakGlass: boolean;
  /**
   * Policies under which a restricted patient shows no identity on a board. A board is a shared
   * screen: the privacy flag always applies there, and no override does.
   */
  boardHiddenUnder: readonly string[];
}

export type AccessDecision = AccessGranted | AccessDenied;

/**
 * The one access decision (DESIGN.md "Security"): whether the actor may use `permission` for
 * `purpose`, and if so which patients (row filter) and which of their identity (field mask).
 * Deny by default: no role granting the permission, no access; patient data under a purpose
 * none of those roles allows, no access. Purposes listed by a secondary-use policy (analytics)
 * never see identity, whatever the role.
 */
export function decideAccess(request: AccessRequest): AccessDecision {
  const { roles, policies, actor, permission, purpose, now } = request;

  const granting = rolesFor(roles, actor, permission);
  if (granting.length === 0) return { allow: false, reason: 'permission_not_granted' };
  const forPurpose = granting.filter((role) => role.purposes.includes(purpose));
  if (forPurpose.length === 0 && request.patientData) {
    return { allow: false, reason: 'purpose_not_allowed' };
  }

  const roleNames = new Set(forPurpose.map((role) => role.name));
  const hideIfRestricted: string[] = [];
  const hideUnlessGranted: string[] = [];
  const boardHiddenUnder: string[] = [];
  let secondaryUse = false;
  for (const policy of policies.policies.values()) {
    const applies =
      policy.kind === 'secondary_use'
        ? policy.purposes.includes(purpose)
        : !policy.visibleTo.some((role) => roleNames.has(role));
    if (policy.kind === 'secondary_use' && applies) secondaryUse = true;
    if (applies)
      (policy.default === 'permit' ? hideIfRestricted : hideUnlessGranted).push(policy.name);
    if (applies || policy.kind === 'privacy') boardHiddenUnder.push(policy.name);
  }

  const mayBreakGlass =
    purpose === breakGlassPurpose &&
    rolesFor(roles, actor, 'breakglass.use', breakGlassPurpose).length > 0;
  const overrides = mayBreakGlass
    ? request.breakGlass.filter(
        (grant) => grant.userId === actor.id && isBreakGlassActive(grant, now),
      )
    : [];

  const rowFilter = {
    departments: scopeOf(actor, forPurpose.length > 0 ? forPurpose : granting),
    hideIfRestricted,
    hideUnlessGranted,
    breakGlassPatients: [...new Set(overrides.map((grant) => grant.patientId))],
    at: now,
  } as Omit<RowFilter, typeof rowFilterBrand> as RowFilter;

  return {
    allow: true,
    departments: rowFilter.departments,
    rowFilter,
    fieldMask: masks[secondaryUse ? 'none' : identityOf(forPurpose)],
    auditPurpose: purpose,
    breakGlass: overrides.length > 0,
    boardHiddenUnder,
  };
}

/**
 * Whether one patient, whose consent state is known, is in view of a row filter (department
 * scope aside: the caller knows where the patient lies), and whether only an override puts
 * them there.
 */
export function patientInView(
  filter: RowFilter,
  patientId: string,
  state: ConsentState,
): { visible: boolean; breakGlass: boolean } {
  const restricted = [...filter.hideIfRestricted, ...filter.hideUnlessGranted].some(
    (policy) => state.get(policy) === 'restrict',
  );
  if (!restricted) return { visible: true, breakGlass: false };
  if (filter.breakGlassPatients.includes(patientId)) return { visible: true, breakGlass: true };
  return { visible: false, breakGlass: false };
}

/** The initials a board may show for a patient: only where the mask and consent allow. */
export function boardInitials(
  decision: Pick<AccessGranted, 'fieldMask' | 'boardHiddenUnder'>,
  state: ConsentState,
  initials: string | null,
): string | null {
  if (!decision.fieldMask.fields.has('initials')) return null;
  if (decision.boardHiddenUnder.some((policy) => state.get(policy) === 'restrict')) return null;
  return initials;
}
