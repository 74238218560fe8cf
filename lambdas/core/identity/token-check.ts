import type { ClaimBinding, GroupRecord, IssuerRecord, TokenSource, TokenStateReader, UserRecord, IamBindingRecord } from '../../ports/identity';
import type { ClientRecord } from '../../ports/tenant-repository';
import { UnauthenticatedError } from '../errors';
import { ROLES, type Principal, type Role } from '../principal';
import { effectiveRoles } from './roles';

/** A signature-checked access token: the principal it names and its revocation handles. */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly source: TokenSource;
  readonly generation: number;
  readonly sessionId: string;
}

/**
 * The authorizer's second check, after the signature: is the record that minted this
 * token still active, at the same generation (no password change, rotation or disable
 * since), and its session not logged out? Roles are re-derived and can only shrink: a
 * demotion applies at the next check, a promotion at the next login. One DynamoDB read.
 */
export async function currentPrincipal(token: VerifiedToken, store: TokenStateReader): Promise<Principal> {
  const { principal, source } = token;
  const tenantId = principal.kind === 'tenant' ? principal.tenantId : 'platform';
  const tokenGroups = principal.kind === 'tenant' ? (principal.groups ?? []) : [];
  const state = await store.loadTokenState(tenantId, source, token.sessionId, tokenGroups);
  const record = state.source as (UserRecord | ClientRecord | IssuerRecord | IamBindingRecord) & { generation?: number; status: string };
  if (!record || record.status !== 'active' || (record.generation ?? 1) !== token.generation) throw new UnauthenticatedError();
  if (state.session?.revoked) throw new UnauthenticatedError();
  if (source.kind === 'user' && (!state.session || state.session.generation !== token.generation)) throw new UnauthenticatedError();
  if (principal.kind === 'platform') return principal;

  const memberOf = new Set('groups' in record && Array.isArray(record.groups) ? record.groups : groupsOfBindings(record));
  const groups = state.groups.filter((g: GroupRecord) => memberOf.has(g.name));
  const current = new Set<Role>(effectiveRoles(ownRoles(record), groups));
  return {
    ...principal,
    roles: ROLES.filter((role) => principal.roles.includes(role) && current.has(role)),
    groups: groups.map((g) => g.name),
  };
}

function ownRoles(record: UserRecord | ClientRecord | IssuerRecord | IamBindingRecord): readonly Role[] {
  if ('bindings' in record) return [...new Set(record.bindings.flatMap((b: ClaimBinding) => b.roles))];
  return record.roles;
}

function groupsOfBindings(record: UserRecord | ClientRecord | IssuerRecord | IamBindingRecord): string[] {
  if ('bindings' in record) return record.bindings.flatMap((b: ClaimBinding) => b.groups ?? []);
  return [];
}
