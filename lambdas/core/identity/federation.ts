import type { ClaimBinding, IamBindingRecord } from '../../ports/identity';
import { wildcardMatch } from '../wildcard';

/** The binding for a caller's ARN: the most specific (longest pattern) active match. */
export function bestIamBinding(bindings: readonly IamBindingRecord[], arn: string, roleArn: string | undefined): IamBindingRecord | undefined {
  return bindings
    .filter((b) => b.status === 'active' && (wildcardMatch(b.arnPattern, arn) || (roleArn !== undefined && wildcardMatch(b.arnPattern, roleArn))))
    .sort((a, b) => b.arnPattern.length - a.arnPattern.length || a.name.localeCompare(b.name))[0];
}

/** Bindings whose every claim condition matches (a list claim matches if any item does). */
export function matchingClaimBindings(bindings: readonly ClaimBinding[], claims: Record<string, unknown>): ClaimBinding[] {
  return bindings.filter((binding) =>
    Object.entries(binding.claims).every(([name, expected]) => {
      if (!Object.hasOwn(claims, name)) return false;
      const actual = claims[name];
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && wildcardMatch(expected, String(v)));
    }),
  );
}
