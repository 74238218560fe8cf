import { AccessEvaluator, type AccessRules, type Operation } from './access/policy';
import { ForbiddenError } from './errors';
import type { Principal, TenantPrincipal } from './principal';

// Every secret operation is decided here, never in a handler: roles first, then the
// tenant's policies (deny wins, default deny) and network safelists (core/access/policy.ts).
// Which kind of principal reaches a route at all is the access gate's (http/access-gate.ts).
export type SecretOperation = Exclude<Operation, 'grant'> | 'purge';

/** Purge is irreversible: it needs `delete` on the path and an Owner or Admin role. */
const PURGE_ROLES = new Set(['owner', 'admin']);

/**
 * One request's access decisions: the tenant's rules (loaded once, on first use) and the
 * caller's source address.
 */
export class SecretAccessGate {
  private evaluator?: Promise<AccessEvaluator>;

  /** `loadRules`: the request's own read of the tenant's rules (the gate's, shared). */
  constructor(private readonly loadRules: () => Promise<AccessRules>, private readonly sourceIp: string) {}

  async authorize(tenant: TenantPrincipal, operation: SecretOperation, path: string): Promise<TenantPrincipal> {
    const evaluator = await this.rules();
    if (operation === 'purge' && !tenant.roles.some((role) => PURGE_ROLES.has(role))) {
      throw new ForbiddenError('Only Owners and Admins can purge secrets.');
    }
    const decision = evaluator.decide(tenant, operation === 'purge' ? 'delete' : operation, path, this.sourceIp);
    if (!decision.allowed) throw new ForbiddenError(refusal(operation, path, decision.reason));
    return tenant;
  }

  /** Allowed when any one of the operations is; refuses with the first's reason. */
  async authorizeAny(principal: TenantPrincipal, operations: readonly SecretOperation[], path: string): Promise<TenantPrincipal> {
    let refused: unknown;
    for (const operation of operations) {
      try {
        return await this.authorize(principal, operation, path);
      } catch (error) {
        refused ??= error;
      }
    }
    throw refused;
  }

  /** Listing is allowed when the caller may list somewhere; each path is then filtered. */
  async authorizeListing(tenant: TenantPrincipal): Promise<(path: string) => boolean> {
    const evaluator = await this.rules();
    if (!evaluator.mayAnywhere(tenant, 'list', this.sourceIp)) {
      throw new ForbiddenError(
        evaluator.insideTenantNetwork(this.sourceIp) ? "Your access does not allow 'list' on secrets." : 'Requests from your network are not allowed for this tenant.',
      );
    }
    return (path) => evaluator.decide(tenant, 'list', path, this.sourceIp).allowed;
  }

  private rules(): Promise<AccessEvaluator> {
    this.evaluator ??= this.loadRules().then((rules) => new AccessEvaluator(rules));
    return this.evaluator;
  }
}

function refusal(operation: SecretOperation, path: string, reason: string): string {
  if (reason === 'outside-network') return 'Requests from your network are not allowed for this tenant.';
  // The path is the caller's own input; naming it is safe and helps.
  return `Your access does not allow '${operation}' on '${path}'.`;
}

/** Owners and Admins read their tenant's trail; the platform admin reads the platform's. */
export function authorizeAuditRead(principal: Principal): void {
  if (principal.kind === 'platform') return;
  if (!principal.roles.some((role) => role === 'owner' || role === 'admin')) {
    throw new ForbiddenError('Only Owners and Admins can read the audit trail.');
  }
}

/** Owners and Admins configure where their tenant's trail is forwarded. */
export function authorizeAuditAdmin(principal: TenantPrincipal): TenantPrincipal {
  authorizeAuditRead(principal);
  return principal;
}

/** Owners and Admins manage users, clients, groups, issuers and IAM bindings. */
export function authorizeIdentityAdmin(principal: TenantPrincipal): TenantPrincipal {
  if (!principal.roles.some((role) => role === 'owner' || role === 'admin')) {
    throw new ForbiddenError('Only Owners and Admins can manage identities.');
  }
  return principal;
}
