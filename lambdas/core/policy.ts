import { ForbiddenError } from './errors';
import type { Principal, Role, TenantPrincipal } from './principal';

// Role-based rules of the foundation; policies of access-control entries (deny wins,
// default deny) layer on top in the same function, so every caller already goes through it.
export type SecretOperation = 'create' | 'read' | 'update' | 'delete' | 'list' | 'purge';

const ROLE_OPERATIONS: Record<Role, ReadonlySet<SecretOperation>> = {
  owner: new Set(['create', 'read', 'update', 'delete', 'list', 'purge']),
  admin: new Set(['create', 'read', 'update', 'delete', 'list', 'purge']),
  contributor: new Set(['create', 'read', 'update', 'delete', 'list']),
  viewer: new Set(['read', 'list']),
};

export function authorizeSecretOperation(principal: Principal, operation: SecretOperation): TenantPrincipal {
  if (principal.kind !== 'tenant') {
    throw new ForbiddenError('Platform principals manage tenants; they cannot access tenant secrets.');
  }
  // Own properties only: a role outside the table ('__proto__', 'Owner') is denied, not a TypeError.
  const allowed = principal.roles.some((role) => Object.hasOwn(ROLE_OPERATIONS, role) && ROLE_OPERATIONS[role].has(operation));
  if (!allowed) throw new ForbiddenError(`Your roles do not allow '${operation}' on secrets.`);
  return principal;
}

export function authorizePlatformAdmin(principal: Principal): void {
  if (principal.kind !== 'platform') throw new ForbiddenError('Only the platform admin can manage tenants.');
}

/** Owners and Admins read their tenant's trail; the platform admin reads the platform's. */
export function authorizeAuditRead(principal: Principal): void {
  if (principal.kind === 'platform') return;
  if (!principal.roles.some((role) => role === 'owner' || role === 'admin')) {
    throw new ForbiddenError('Only Owners and Admins can read the audit trail.');
  }
}

/** Owners and Admins configure where their tenant's trail is forwarded. */
export function authorizeAuditAdmin(principal: Principal): TenantPrincipal {
  if (principal.kind !== 'tenant') throw new ForbiddenError('Audit sinks belong to a tenant; platform principals have none.');
  authorizeAuditRead(principal);
  return principal;
}
