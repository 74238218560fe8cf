// The single-table key layout. Every tenant item's partition key starts with `T#<tenantId>#`,
// so IAM can pin a tenant's session to its own rows (dynamodb:LeadingKeys) and no query
// built from a tenant-bound repository can reach another tenant's rows. The only module
// that spells a key: the adapters, the stack's IAM conditions and stream filter
// (lib/constructs/) and the health check build theirs from here.

/** The table's key and TTL attributes (the stack defines the table with these). */
export const tableAttributes = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiresAt' } as const;

/** The platform's own partition: the tenant index, platform clients, region flags. */
const PLATFORM = 'PLATFORM';
const PLATFORM_AUDIT = 'PLATFORM#AUDIT';
const PLATFORM_IDENTITY = 'PLATFORM#IDENTITY';
/** The shared start of every audit event's sort key, `E#<seq>`. */
const AUDIT_EVENT = 'E#';
const TENANT_INDEX = 'TENANT#';
const SINK = 'SINK#';
const VERSION = 'V#';

export const keys = {
  tenantMeta: (tenantId: string) => `T#${tenantId}#META`,
  tenantSk: 'TENANT',
  dataKeySk: (keyVersion: number) => `DATAKEY#${String(keyVersion).padStart(6, '0')}`,
  clientPk: (scope: string) => (scope === 'platform' ? PLATFORM : `T#${scope}#META`),
  clientSkPrefix: 'CLIENT#',
  clientSk: (clientId: string) => `CLIENT#${clientId}`,
  /**
   * Users, groups, policies, issuers, IAM bindings, sessions: one partition per tenant; the
   * platform admin's sessions in the platform's own (outside every tenant's prefix).
   */
  identity: (tenantId: string) => (tenantId === 'platform' ? PLATFORM_IDENTITY : `T#${tenantId}#IDENTITY`),
  ownersSk: 'OWNERS',
  networkSk: 'ACCESS#NETWORK',
  sessionSk: (sessionId: string) => `SESSION#${sessionId}`,
  nonceSk: (nonce: string) => `NONCE#${nonce}`,
  /** Failed client logins per source address and minute (core/identity/source-throttle.ts). */
  sourceThrottlePk: (source: string) => `THROTTLE#${source}`,
  throttleWindowSk: (windowStart: number) => `W#${windowStart}`,
  /** One per tenant: the counter an unknown or locked user's login attempt writes instead of a user's. */
  decoySk: 'DECOY',
  tenantIndexPk: PLATFORM,
  tenantIndexSkPrefix: TENANT_INDEX,
  tenantIndexSk: (tenantId: string) => `${TENANT_INDEX}${tenantId}`,
  /** A region's operator flags (drained), read by the deep health check. */
  regionPk: PLATFORM,
  regionSk: (region: string) => `REGION#${region}`,
  secretHeads: (tenantId: string) => `T#${tenantId}#HEADS`,
  secretVersions: (tenantId: string, path: string) => `T#${tenantId}#SECRET#${path}`,
  versionSkPrefix: VERSION,
  versionSk: (version: number) => `${VERSION}${String(version).padStart(10, '0')}`,
  /** One audit chain per tenant (and one for the platform): its events and the shipper's mark. */
  auditChain: (chain: string) => (chain === 'platform' ? PLATFORM_AUDIT : `T#${chain}#AUDIT`),
  auditShippedSk: 'SHIPPED',
  auditEventSkPrefix: AUDIT_EVENT,
  auditEventSk: (seq: number) => `${AUDIT_EVENT}${String(seq).padStart(12, '0')}`,
  /** Sorts after every event's sort key: the upper bound of a range of events. */
  auditEventSkAfterLast: `${AUDIT_EVENT}~`,
  isAuditEventSk: (sk: string) => sk.startsWith(AUDIT_EVENT),
  /** An Idempotency-Key record: a partition of its own, under its tenant's prefix (LeadingKeys). */
  idempotency: (tenantId: string | null, id: string) => (tenantId === null ? `${PLATFORM}#IDEM#${id}` : `T#${tenantId}#IDEM#${id}`),
  idempotencySk: 'IDEM',
  sinkSkPrefix: SINK,
  sinkSk: (name: string) => `${SINK}${name}`,
  /** The chain an audit item belongs to, from its partition key; undefined for other items. */
  chainOfAuditPk: (pk: string): string | undefined =>
    pk === PLATFORM_AUDIT ? 'platform' : /^T#(ten_[a-z2-7]{20})#AUDIT$/.exec(pk)?.[1],
} as const;

/**
 * Partitions as IAM `dynamodb:LeadingKeys` values (StringLike for the patterns): the same
 * builders with `*` for the tenant id, so a policy names exactly the partitions the code writes.
 */
export const leadingKeys = {
  anyTenantIdentity: keys.identity('*'),
  anyTenantMeta: keys.tenantMeta('*'),
  anyTenantAudit: keys.auditChain('*'),
  platform: PLATFORM,
  platformAudit: keys.auditChain('platform'),
  platformIdentity: keys.identity('platform'),
  platformIdempotency: keys.idempotency(null, '*'),
} as const;
