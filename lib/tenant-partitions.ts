import { keys } from '../lambdas/adapters/dynamodb/keys';

// The tenant's partitions as one IAM StringLike pattern, derived from the key builders in
// lambdas/adapters/dynamodb/keys.ts (the one module that spells a key): every builder
// that takes a tenant id is called with a marker, and all must put the id at the same place.

const MARK = '\u0000';

/** Every partition key that belongs to one tenant, built for the marker tenant. */
const TENANT_PARTITIONS = [
  keys.tenantMeta(MARK),
  keys.identity(MARK),
  keys.secretHeads(MARK),
  keys.secretVersions(MARK, 'any/path'),
  keys.auditChain(MARK),
  keys.idempotency(MARK, 'any-key'),
  keys.clientPk(MARK),
];

/** `T#` + id + `#`: what every tenant partition key starts with. */
function tenantPrefixAround(tenant: string): string {
  const prefixes = new Set(TENANT_PARTITIONS.map((pk) => pk.slice(0, pk.indexOf(MARK) + MARK.length + 1)));
  const [prefix, ...others] = prefixes;
  if (prefix === undefined || others.length > 0 || !prefix.endsWith(`${MARK}#`)) {
    throw new Error(`tenant partition keys do not share one "<prefix><tenant>#" start: ${[...prefixes].map((p) => JSON.stringify(p)).join(', ')}`);
  }
  return prefix.replace(MARK, tenant);
}

/** StringLike pattern for every partition of `tenant` (an id or a policy variable). */
export const tenantPartitionsPattern = (tenant: string) => `${tenantPrefixAround(tenant)}*`;

/** The tenant's audit chain partition: appended to, never updated by request functions. */
export const tenantAuditPartition = (tenant: string) => keys.auditChain(tenant);
