import { Safelist } from '../core/access/network';
import type { AccessRules } from '../core/access/policy';
import { ForbiddenError, InternalError } from '../core/errors';
import type { PlatformPrincipal, Principal, TenantPrincipal } from '../core/principal';
import type { Access, FunctionName } from '../route-manifest';

// The one gate of every authenticated route: which kind of principal may call it, and the
// tenant's network safelist. The mode comes from the route manifest; api() applies it before
// any handler runs, so no route group can forget it. Roles (Owner, Admin…) and policies stay
// in the core, which now receives a principal of the kind its mode admits.

/** The principal a route of each mode receives. */
export type PrincipalFor<A extends Access> = A extends 'public'
  ? undefined
  : A extends 'tenant'
    ? TenantPrincipal
    : A extends 'platform'
      ? PlatformPrincipal
      : Principal;

/** A platform principal on a tenant route, by what the route holds (the messages predate the gate). */
const NOT_A_TENANT: Partial<Record<FunctionName, string>> = {
  secrets: 'Platform principals manage tenants; they cannot access tenant secrets.',
  identity: 'Identities belong to a tenant; platform principals manage none.',
  audit: 'Audit sinks belong to a tenant; platform principals have none.',
};
export const OUTSIDE_NETWORK = 'Requests from your network are not allowed for this tenant.';
export const PLATFORM_ONLY = 'Only the platform admin can manage tenants.';

/**
 * Admits the principal to a route of `access`, or throws ForbiddenError. For tenant
 * principals on tenant routes it reads the tenant's access rules through `rules` — the same
 * per-request read the route's policy checks then use, so the gate costs no extra call.
 */
export async function admit(access: Access, fn: FunctionName, principal: Principal, sourceIp: string, rules: () => Promise<AccessRules>): Promise<void> {
  switch (access) {
    case 'public':
    case 'self':
      return;
    case 'platform':
      if (principal.kind !== 'platform') throw new ForbiddenError(PLATFORM_ONLY);
      return;
    case 'tenant':
      if (principal.kind !== 'tenant') throw new ForbiddenError(NOT_A_TENANT[fn] ?? 'This route belongs to a tenant; platform principals hold none.');
      return insideNetwork(await rules(), sourceIp);
    case 'tenant-or-platform':
      if (principal.kind === 'tenant') insideNetwork(await rules(), sourceIp);
      return;
    default:
      throw new InternalError(`unknown access mode ${String(access satisfies never)}`);
  }
}

function insideNetwork(rules: AccessRules, sourceIp: string): void {
  if (rules.tenantCidrs.length && !new Safelist(rules.tenantCidrs).allows(sourceIp)) throw new ForbiddenError(OUTSIDE_NETWORK);
}
