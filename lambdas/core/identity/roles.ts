import type { GroupRecord } from '../../ports/identity';
import { ForbiddenError } from '../errors';
import { highestRank, ROLE_RANK, ROLES, type Role, type TenantPrincipal } from '../principal';

/** A principal's own roles and its groups', in the canonical order. */
export function effectiveRoles(own: readonly Role[], groups: readonly Pick<GroupRecord, 'roles'>[]): Role[] {
  const all = new Set<Role>([...own, ...groups.flatMap((g) => g.roles)]);
  return ROLES.filter((role) => all.has(role));
}

/** Nobody hands out a role above their own (an Admin cannot make an Owner). */
export function assertMayAssign(actor: TenantPrincipal, roles: readonly Role[]): void {
  const mine = highestRank(actor.roles);
  const above = roles.filter((role) => ROLE_RANK[role] > mine);
  if (above.length) throw new ForbiddenError(`You cannot grant the role '${above[0]}': it is above your own.`);
}

/** Nobody acts on a principal that holds more than they do (an Admin cannot disable an Owner). */
export function assertMayManage(actor: TenantPrincipal, targetRoles: readonly Role[]): void {
  if (highestRank(targetRoles) > highestRank(actor.roles)) {
    throw new ForbiddenError('You cannot change a principal whose role is above your own.');
  }
}
