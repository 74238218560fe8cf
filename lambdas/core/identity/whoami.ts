import type { SessionRevoker } from '../../ports/identity';
import { AccessEvaluator, selectorMatches, type AccessEntry, type AccessRules } from '../access/policy';
import { InvalidRequestError } from '../errors';
import type { Principal, Role } from '../principal';
import type { CallerRequest } from './requests';

export interface WhoAmI {
  readonly principal: { readonly type: string; readonly id: string };
  readonly tenantId: string | null;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly authMethod: string | null;
  readonly mfa: boolean;
  readonly sessionId?: string;
  readonly policies: readonly { name: string; sourceCidrs?: readonly string[]; entries: readonly AccessEntry[] }[];
  readonly network: { readonly cidrs: readonly string[]; readonly sourceIp: string; readonly allowed: boolean };
}

/** What any verified principal may ask about itself, and ending its own session. */
export class SelfService {
  constructor(private readonly deps: { readonly sessions: SessionRevoker }) {}

  /** Who the caller is, what it holds, and the policy entries that name it. */
  async whoami(req: CallerRequest<Principal>): Promise<WhoAmI> {
    const p = req.principal;
    if (p.kind === 'platform') {
      return { principal: { type: 'platform', id: p.id }, tenantId: null, roles: [], groups: [], authMethod: p.authMethod ?? null, mfa: false, policies: [], network: { cidrs: [], sourceIp: req.sourceIp, allowed: true } };
    }
    const rules: AccessRules = await req.rules();
    const evaluator = new AccessEvaluator(rules);
    return {
      principal: { type: p.type, id: p.id },
      tenantId: p.tenantId,
      roles: p.roles,
      groups: p.groups ?? [],
      authMethod: p.authMethod ?? null,
      mfa: p.mfa === true,
      ...(p.sessionId ? { sessionId: p.sessionId } : {}),
      policies: evaluator.policiesFor(p).map((policy) => ({
        name: policy.name,
        ...(policy.sourceCidrs?.length ? { sourceCidrs: policy.sourceCidrs } : {}),
        entries: policy.entries.filter((e) => e.principals.some((selector) => selectorMatches(selector, p))),
      })),
      network: { cidrs: rules.tenantCidrs, sourceIp: req.sourceIp, allowed: evaluator.insideTenantNetwork(req.sourceIp) },
    };
  }

  /**
   * Ends the caller's session: its tokens stop at the authorizer's next check (API Gateway
   * may keep answering from its authorizer cache until that entry expires).
   */
  async logout(req: CallerRequest<Principal>, tokenExpiresAt: number): Promise<void> {
    const p = req.principal;
    if (!p.sessionId) throw new InvalidRequestError('This token has no session to end.');
    await this.deps.sessions.revokeSession(p.kind === 'tenant' ? p.tenantId : 'platform', p.sessionId, tokenExpiresAt);
  }
}
