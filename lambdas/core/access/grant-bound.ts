import type { GroupRecord } from '../../ports/identity';
import { ForbiddenError } from '../errors';
import { effectiveRoles, assertMayAssign } from '../identity/roles';
import type { Role, TenantPrincipal, TenantPrincipalType } from '../principal';
import type { AccessEntry, AccessEvaluator, PrincipalShape } from './policy';

// The grant bound (CloudTruth's rule): nobody hands out more than they hold. Every identity
// change that can give a principal access — creating or editing it, resetting its credential,
// writing a policy, taking away what a deny names — is checked here against the actor's own
// access. Its soundness has a property test (test/unit/access/grant-bound.property.test.ts).

/** Why the actor needs to hold what the target may do: to give it, or to take it over. */
export type EmpowerPurpose = 'grant' | 'takeover';

/** A principal as the grant bound sees it: its own roles and those of the groups that exist. */
export function shapeOf(type: TenantPrincipalType, idPatterns: readonly string[], roles: readonly Role[], groupNames: readonly string[], groups: readonly GroupRecord[]): PrincipalShape {
  const mine = groups.filter((g) => groupNames.includes(g.name));
  return { type, idPatterns, roles: effectiveRoles(roles, mine), groups: mine.map((g) => g.name) };
}

/**
 * Whether by creating or editing a principal (`grant`) or by resetting its credential
 * (`takeover`): no role above the actor's, and nothing the principal could be allowed — by
 * its roles or by any allow entry that may name it — that the actor does not hold itself.
 */
export function assertMayEmpower(actor: TenantPrincipal, evaluator: AccessEvaluator, shapes: readonly PrincipalShape[], sourceIp: string, purpose: EmpowerPurpose): void {
  for (const shape of shapes) {
    if (purpose === 'grant') assertMayAssign(actor, shape.roles);
    const unheld = evaluator.firstUnheld(actor, shape, sourceIp);
    if (!unheld) continue;
    const { operation, path, policy } = unheld;
    if (purpose === 'takeover') {
      throw new ForbiddenError(`You cannot reset the credentials of a principal that may '${operation}' on '${path}': you do not hold it there yourself.`);
    }
    if (policy === undefined) throw new ForbiddenError(`You cannot grant a role that includes '${operation}' everywhere: a policy limits your own '${operation}'.`);
    throw new ForbiddenError(`You cannot give this principal '${operation}' on '${path}' (policy '${policy}'): you do not hold it there yourself.`);
  }
}

/**
 * Writing entries hands out what their allows grant; replacing or removing entries hands
 * back what their denies took away. Either way the writer must hold it. Owners may always
 * rewrite policies (nothing can lock the Owners out), but grant only what they hold.
 */
export function assertMayGrant(actor: TenantPrincipal, evaluator: AccessEvaluator, entries: readonly AccessEntry[], sourceIp: string, mode: 'writing' | 'replacing' = 'writing'): void {
  const owner = actor.roles.includes('owner');
  for (const entry of entries) {
    for (const pattern of entry.paths) {
      if (!owner && !evaluator.holds(actor, 'grant', pattern, sourceIp)) {
        throw new ForbiddenError(`You do not hold 'grant' on '${pattern}'.`);
      }
      if (mode !== 'writing' || entry.effect !== 'allow') continue;
      for (const operation of entry.operations) {
        if (!evaluator.holds(actor, operation, pattern, sourceIp)) {
          throw new ForbiddenError(`You cannot grant '${operation}' on '${pattern}': you do not hold it there yourself.`);
        }
      }
    }
  }
  if (mode === 'replacing') assertMayLift(actor, evaluator, entries, sourceIp);
}

/** Taking away what deny entries name (a group, a role) lifts those denies. */
export function assertMayLiftDenies(actor: TenantPrincipal, evaluator: AccessEvaluator, selectors: readonly string[], sourceIp: string): void {
  if (selectors.length === 0) return;
  for (const policy of evaluator.rules.policies) {
    assertMayLift(actor, evaluator, policy.entries.filter((e) => e.principals.some((p) => selectors.includes(p))), sourceIp, policy.name);
  }
}

/**
 * Removing deny entries hands back what they took away: the actor must hold it. Owners
 * may always rewrite policies anyway (nothing can lock the Owners out).
 */
function assertMayLift(actor: TenantPrincipal, evaluator: AccessEvaluator, entries: readonly AccessEntry[], sourceIp: string, policy?: string): void {
  if (actor.roles.includes('owner')) return;
  for (const entry of entries) {
    if (entry.effect !== 'deny') continue;
    for (const path of entry.paths) {
      for (const operation of entry.operations) {
        if (!evaluator.holds(actor, operation, path, sourceIp)) {
          const from = policy === undefined ? '' : ` (policy '${policy}')`;
          throw new ForbiddenError(`You cannot lift a deny of '${operation}' on '${path}'${from}: you do not hold it there yourself.`);
        }
      }
    }
  }
}
