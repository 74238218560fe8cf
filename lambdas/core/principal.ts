// Who is calling. The tenant id here comes only from a verified token (DESIGN.md).
export const ROLES = ['owner', 'admin', 'contributor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Higher holds more: nobody hands out a role above their own (the CloudTruth rule). */
export const ROLE_RANK: Readonly<Record<Role, number>> = { owner: 4, admin: 3, contributor: 2, viewer: 1 };

export const TENANT_PRINCIPAL_TYPES = ['client', 'user', 'iam', 'federated'] as const;
export type TenantPrincipalType = (typeof TENANT_PRINCIPAL_TYPES)[number];
export type PrincipalType = TenantPrincipalType | 'platform';

/** How the caller proved who it is (the grant that minted its first token). */
export const AUTH_METHODS = ['client_credentials', 'password', 'aws_iam', 'jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface TenantPrincipal {
  readonly kind: 'tenant';
  readonly tenantId: string;
  readonly type: TenantPrincipalType;
  readonly id: string;
  /** Effective roles: the principal's own and its groups', as of its last check. */
  readonly roles: readonly Role[];
  readonly groups?: readonly string[];
  readonly authMethod?: AuthMethod;
  /** True when a second factor was verified at login. */
  readonly mfa?: boolean;
  /** The login session (refresh-token family) the token belongs to. */
  readonly sessionId?: string;
}

/** Operates Coffer itself (onboards tenants); holds no tenant and can read no secret. */
export interface PlatformPrincipal {
  readonly kind: 'platform';
  readonly type: 'platform';
  readonly id: string;
  readonly authMethod?: AuthMethod;
  readonly sessionId?: string;
}

export type Principal = TenantPrincipal | PlatformPrincipal;

export function describePrincipal(p: Principal): string {
  return p.kind === 'platform' ? `platform:${p.id}` : `${p.type}:${p.id}`;
}

export function highestRank(roles: readonly Role[]): number {
  return Math.max(0, ...roles.map((r) => ROLE_RANK[r] ?? 0));
}
