// Who is calling. The tenant id here comes only from a verified token (DESIGN.md).
export const ROLES = ['owner', 'admin', 'contributor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type PrincipalType = 'client' | 'user' | 'platform';

export interface TenantPrincipal {
  readonly kind: 'tenant';
  readonly tenantId: string;
  readonly type: Exclude<PrincipalType, 'platform'>;
  readonly id: string;
  readonly roles: readonly Role[];
}

/** Operates Coffer itself (onboards tenants); holds no tenant and can read no secret. */
export interface PlatformPrincipal {
  readonly kind: 'platform';
  readonly type: 'platform';
  readonly id: string;
}

export type Principal = TenantPrincipal | PlatformPrincipal;

export function describePrincipal(p: Principal): string {
  return p.kind === 'platform' ? `platform:${p.id}` : `${p.type}:${p.id}`;
}
