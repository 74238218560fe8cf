import type { ClaimBinding, IamBindingRecord } from '../../ports/identity';
import { wildcardMatch } from '../wildcard';

// Which external principals a binding admits. A binding that could admit anyone — any AWS
// account, every repository on GitHub — is refused when written and ignored at login
// (it may predate the rule).

/**
 * Partition, service and account literal: the first `*` can only come in the resource, so
 * it can never swallow `iam::<another account>:` (IAM paths may contain ':').
 */
const SAFE_ARN_PATTERN = /^arn:aws(-[a-z]+)*:(iam|sts)::\d{12}:\S{1,512}$/;

export function isSafeArnPattern(pattern: string): boolean {
  return SAFE_ARN_PATTERN.test(pattern);
}

/**
 * Claims that say who is calling, so that matching one pins a caller down: GitHub Actions
 * (`repository`, `repository_owner`, `job_workflow_ref`…), GitLab (`project_path`…), Azure
 * (`oid`, `tid`, `xms_mirid`), Cognito and generic OIDC (`sub`, `email`, `username`…).
 * Claims such as `ref`, `event_name`, `aud` or `environment` are shared by every caller.
 */
export const IDENTIFYING_CLAIMS: ReadonlySet<string> = new Set([
  'sub',
  'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'job_workflow_ref', 'workflow_ref', 'actor', 'actor_id',
  'project_path', 'project_id', 'namespace_path', 'namespace_id', 'user_login', 'user_id', 'user_email',
  'oid', 'tid', 'appid', 'xms_mirid',
  'email', 'username', 'cognito:username', 'client_id', 'uid',
]);

/**
 * At least one identifying claim matched exactly, or `sub` by a pattern whose literal start
 * names at least two levels (`repo:acme/app:*`, `repo:acme/*`; never `repo:*` or `*`).
 */
export function isSpecificClaimBinding(claims: Readonly<Record<string, string>>): boolean {
  return Object.entries(claims).some(([name, value]) => {
    if (!IDENTIFYING_CLAIMS.has(name)) return false;
    if (!value.includes('*')) return value.length > 0;
    const literalStart = value.slice(0, value.indexOf('*'));
    return name === 'sub' && literalStart.split(/[:/|]/).filter(Boolean).length >= 2 && /[:/|]$/.test(literalStart);
  });
}

/** The binding for a caller's ARN: the most specific (longest pattern) active, safe match. */
export function bestIamBinding(bindings: readonly IamBindingRecord[], arn: string, roleArn: string | undefined): IamBindingRecord | undefined {
  return bindings
    .filter((b) => b.status === 'active' && isSafeArnPattern(b.arnPattern))
    .filter((b) => wildcardMatch(b.arnPattern, arn) || (roleArn !== undefined && wildcardMatch(b.arnPattern, roleArn)))
    .sort((a, b) => b.arnPattern.length - a.arnPattern.length || a.name.localeCompare(b.name))[0];
}

/** Specific bindings whose every claim condition matches (a list claim matches if any item does). */
export function matchingClaimBindings(bindings: readonly ClaimBinding[], claims: Record<string, unknown>): ClaimBinding[] {
  return bindings.filter(
    (binding) =>
      isSpecificClaimBinding(binding.claims) &&
      Object.entries(binding.claims).every(([name, expected]) => {
        if (!Object.hasOwn(claims, name)) return false;
        const actual = claims[name];
        const values = Array.isArray(actual) ? actual : [actual];
        return values.some((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && wildcardMatch(expected, String(v)));
      }),
  );
}
