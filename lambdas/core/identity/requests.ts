import type { MutationAudit } from '../../ports/audit-log';
import type { AccessRules } from '../access/policy';
import { authorizeIdentityAdmin } from '../policy';
import type { Principal, TenantPrincipal } from '../principal';

/**
 * The caller and this request: who acts, from where, the event the change commits with, and
 * the tenant's access rules as this request read them (the access gate's read, shared).
 * Routes reach the core only after the gate admitted the caller: a tenant principal from
 * inside its tenant's network safelist, except whoami and logout (any verified principal).
 */
export interface CallerRequest<P extends Principal> {
  readonly principal: P;
  readonly sourceIp: string;
  readonly audit?: MutationAudit;
  readonly rules: () => Promise<AccessRules>;
}
export type AdminRequest = CallerRequest<TenantPrincipal>;

/** Whether the caller is the very user or client the request names. */
export function isSelf(principal: Principal, kind: 'user' | 'client', id: string): boolean {
  return principal.kind === 'tenant' && principal.type === kind && principal.id === id;
}

/** An Owner or Admin (the gate already kept out other kinds and other networks). */
export function asAdmin(req: AdminRequest): TenantPrincipal {
  return authorizeIdentityAdmin(req.principal);
}

/** The user or client itself, or else an Owner or Admin. */
export function selfOrAdmin(req: AdminRequest, kind: 'user' | 'client', id: string): TenantPrincipal {
  return isSelf(req.principal, kind, id) ? req.principal : asAdmin(req);
}
