import type { Role, TenantPrincipal, TenantPrincipalType } from '../principal';
import { covers, matchesPath, mayOverlap } from './path-pattern';
import { Safelist } from './network';
import { wildcardMatch, wildcardsOverlap } from '../wildcard';

// Access-control entries, evaluated in one place for every secret operation:
//   1. outside the tenant's network safelist → denied;
//   2. any matching deny entry → denied (deny wins, over roles too);
//   3. a role that includes the operation, or a matching allow entry → allowed;
//   4. otherwise denied (default deny).
// An allow entry of a policy with a source safelist counts only from inside it; its deny
// entries count from everywhere.
export const OPERATIONS = ['create', 'read', 'update', 'delete', 'list', 'grant'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AccessEntry {
  readonly effect: 'allow' | 'deny';
  /** `*`, `role:<role>`, `group:<name>`, or `<type>:<id>` with `*` wildcards in the id. */
  readonly principals: readonly string[];
  readonly paths: readonly string[];
  readonly operations: readonly Operation[];
}

export interface AccessPolicy {
  readonly name: string;
  readonly description?: string;
  readonly entries: readonly AccessEntry[];
  readonly sourceCidrs?: readonly string[];
}

export interface AccessRules {
  readonly policies: readonly AccessPolicy[];
  /** Tenant-wide: no request from outside these blocks is allowed anything. Empty = anywhere. */
  readonly tenantCidrs: readonly string[];
}

export const NO_RULES: AccessRules = { policies: [], tenantCidrs: [] };

/** What each role may do on every path, before policies. */
export const ROLE_OPERATIONS: Readonly<Record<Role, readonly Operation[]>> = {
  owner: OPERATIONS,
  admin: OPERATIONS,
  contributor: ['create', 'read', 'update', 'delete', 'list'],
  viewer: ['read', 'list'],
};

export type DecisionReason = 'role' | 'policy' | 'deny-entry' | 'outside-network' | 'default-deny';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The policy that decided, when one did. */
  readonly policy?: string;
}

interface CompiledPolicy {
  readonly policy: AccessPolicy;
  readonly safelist?: Safelist;
}

/**
 * How a selector names principals: `*` all, `role:`/`group:` by membership, anything else
 * by type and an id matched by `ids` (one principal's id, or a shape's id patterns).
 */
function selects(selector: string, member: { roles: readonly Role[]; groups?: readonly string[] | undefined; type?: string | undefined }, ids: (value: string) => boolean): boolean {
  if (selector === '*') return true;
  const colon = selector.indexOf(':');
  if (colon < 0) return false; // only '*' stands alone
  const kind = selector.slice(0, colon);
  const value = selector.slice(colon + 1);
  if (kind === 'role') return member.roles.includes(value as Role);
  if (kind === 'group') return (member.groups ?? []).includes(value);
  return kind === member.type && ids(value);
}

export function selectorMatches(selector: string, principal: TenantPrincipal): boolean {
  return selects(selector, principal, (value) => wildcardMatch(value, principal.id));
}

const hasOwnRole = (role: string): role is Role => Object.hasOwn(ROLE_OPERATIONS, role);

/**
 * A principal that a change would create, edit or hand to the actor (by resetting its
 * credential). Bindings mint principals whose ids are only known as patterns.
 */
export interface PrincipalShape {
  /** Absent for a group's members as such: then only `*`, `role:` and `group:` name them. */
  readonly type?: TenantPrincipalType;
  /** Its id, or `*` patterns of the ids it may take. */
  readonly idPatterns: readonly string[];
  /** Effective roles: its own and its groups'. */
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

/** Could this selector name some principal of the shape? (Conservative: true when unsure.) */
export function selectorMayMatch(selector: string, shape: PrincipalShape): boolean {
  return selects(selector, shape, (value) => shape.idPatterns.some((pattern) => wildcardsOverlap(value, pattern)));
}

/**
 * Does this selector name every principal of the shape? (Conservative: false when unsure.)
 * An id pattern read as plain text that the selector matches is covered by it: the
 * pattern's stars can only be taken up by the selector's.
 */
export function selectorNamesAll(selector: string, shape: PrincipalShape): boolean {
  return selects(selector, shape, (value) => shape.idPatterns.length > 0 && shape.idPatterns.every((pattern) => wildcardMatch(value, pattern)));
}

/** Something a principal could be allowed that the actor does not hold itself. */
export interface Unheld {
  readonly operation: Operation;
  readonly path: string;
  /** The allow entry's policy; absent when a role reaches it (on every path). */
  readonly policy?: string;
}

export class AccessEvaluator {
  private readonly compiled: readonly CompiledPolicy[];
  private readonly tenantSafelist?: Safelist;

  constructor(readonly rules: AccessRules) {
    this.compiled = rules.policies.map((policy) => ({
      policy,
      ...(policy.sourceCidrs?.length ? { safelist: new Safelist(policy.sourceCidrs) } : {}),
    }));
    if (rules.tenantCidrs.length) this.tenantSafelist = new Safelist(rules.tenantCidrs);
  }

  insideTenantNetwork(sourceIp: string): boolean {
    return !this.tenantSafelist || this.tenantSafelist.allows(sourceIp);
  }

  decide(principal: TenantPrincipal, operation: Operation, path: string, sourceIp: string): Decision {
    if (!this.insideTenantNetwork(sourceIp)) return { allowed: false, reason: 'outside-network' };
    let allowedBy: CompiledPolicy | undefined;
    for (const entry of this.entriesFor(principal, operation)) {
      if (!entry.entry.paths.some((pattern) => matchesPath(pattern, path))) continue;
      if (entry.entry.effect === 'deny') return { allowed: false, reason: 'deny-entry', policy: entry.from.policy.name };
      if (!allowedBy && this.inPolicyNetwork(entry.from, sourceIp)) allowedBy = entry.from;
    }
    if (this.roleAllows(principal, operation)) return { allowed: true, reason: 'role' };
    if (allowedBy) return { allowed: true, reason: 'policy', policy: allowedBy.policy.name };
    return { allowed: false, reason: 'default-deny' };
  }

  /** Could this principal be allowed the operation anywhere? (Collection-level checks.) */
  mayAnywhere(principal: TenantPrincipal, operation: Operation, sourceIp: string): boolean {
    if (!this.insideTenantNetwork(sourceIp)) return false;
    if (this.roleAllows(principal, operation)) return true;
    return [...this.entriesFor(principal, operation)].some((e) => e.entry.effect === 'allow' && this.inPolicyNetwork(e.from, sourceIp));
  }

  /**
   * Does the principal hold the operation on every path the pattern matches? The grant
   * check: nobody hands out more than this. Conservative (false when unsure).
   */
  holds(principal: TenantPrincipal, operation: Operation, pattern: string, sourceIp: string, excused: readonly string[] = []): boolean {
    if (!this.insideTenantNetwork(sourceIp)) return false;
    let granted = this.roleAllows(principal, operation);
    for (const { entry, from } of this.entriesFor(principal, operation)) {
      if (entry.effect === 'deny') {
        // `excused`: paths where the principal handed out is denied this too, so the
        // holder's own deny there takes nothing from what it hands out.
        if (entry.paths.some((denied) => mayOverlap(denied, pattern) && !excused.some((e) => covers(e, denied)))) return false;
      } else if (!granted && from.safelist === undefined && entry.paths.some((allowed) => covers(allowed, pattern))) {
        // An allow limited to some networks is not held everywhere: it cannot be passed on.
        granted = true;
      }
    }
    return granted;
  }

  /**
   * The CloudTruth rule for principals: everything a principal of this shape could be
   * allowed — its roles' operations everywhere, and every allow entry that may name it —
   * must be held by the actor, except where a deny names the whole shape too (a tenant-wide
   * deny binds both alike). Denies that may apply to only some of the shape, or that a
   * change could lift (leaving a group), count for nothing: what the principal can do is a
   * subset of this, so lifting a deny is bounded too. Returns the first thing not held.
   */
  firstUnheld(actor: TenantPrincipal, shape: PrincipalShape, sourceIp: string): Unheld | undefined {
    // Computed once per operation: the loops below ask for it per entry and path.
    const denied = new Map<Operation, string[]>();
    const deniedToShape = (operation: Operation) => denied.get(operation) ?? denied.set(operation, this.deniedPaths(shape, operation)).get(operation)!;
    for (const operation of new Set(shape.roles.filter(hasOwnRole).flatMap((role) => ROLE_OPERATIONS[role]))) {
      if (!this.holds(actor, operation, '**', sourceIp, deniedToShape(operation))) return { operation, path: '**' };
    }
    for (const { policy } of this.compiled) {
      for (const entry of policy.entries) {
        if (entry.effect !== 'allow' || !entry.principals.some((selector) => selectorMayMatch(selector, shape))) continue;
        for (const path of entry.paths) {
          for (const operation of entry.operations) {
            if (!this.holds(actor, operation, path, sourceIp, deniedToShape(operation))) return { operation, path, policy: policy.name };
          }
        }
      }
    }
    return undefined;
  }

  /** Paths where a deny entry names every principal of the shape for this operation. */
  private deniedPaths(shape: PrincipalShape, operation: Operation): string[] {
    return this.rules.policies.flatMap((policy) =>
      policy.entries.filter((e) => e.effect === 'deny' && e.operations.includes(operation) && e.principals.some((s) => selectorNamesAll(s, shape))).flatMap((e) => e.paths),
    );
  }

  /** The policies with at least one entry naming this principal (for whoami). */
  policiesFor(principal: TenantPrincipal): AccessPolicy[] {
    return this.rules.policies.filter((p) => p.entries.some((e) => e.principals.some((s) => selectorMatches(s, principal))));
  }

  private roleAllows(principal: TenantPrincipal, operation: Operation): boolean {
    return principal.roles.some((role) => hasOwnRole(role) && ROLE_OPERATIONS[role].includes(operation));
  }

  private inPolicyNetwork(compiled: CompiledPolicy, sourceIp: string): boolean {
    return !compiled.safelist || compiled.safelist.allows(sourceIp);
  }

  private *entriesFor(principal: TenantPrincipal, operation: Operation) {
    for (const from of this.compiled) {
      for (const entry of from.policy.entries) {
        if (!entry.operations.includes(operation)) continue;
        if (!entry.principals.some((selector) => selectorMatches(selector, principal))) continue;
        yield { entry, from };
      }
    }
  }
}
