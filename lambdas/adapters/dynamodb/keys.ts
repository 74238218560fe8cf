// The single-table key layout. Every tenant item's partition key starts with `T#<tenantId>#`,
// so IAM can pin a tenant's session to its own rows (dynamodb:LeadingKeys) and no query
// built from a tenant-bound repository can reach another tenant's rows.
export const keys = {
  tenantMeta: (tenantId: string) => `T#${tenantId}#META`,
  tenantSk: 'TENANT',
  dataKeySk: (keyVersion: number) => `DATAKEY#${String(keyVersion).padStart(6, '0')}`,
  clientPk: (scope: string) => (scope === 'platform' ? 'PLATFORM' : `T#${scope}#META`),
  clientSk: (clientId: string) => `CLIENT#${clientId}`,
  /** Users, groups, policies, issuers, IAM bindings, sessions: one partition per tenant. */
  identity: (tenantId: string) => `T#${tenantId}#IDENTITY`,
  ownersSk: 'OWNERS',
  networkSk: 'ACCESS#NETWORK',
  sessionSk: (sessionId: string) => `SESSION#${sessionId}`,
  nonceSk: (nonce: string) => `NONCE#${nonce}`,
  /** Never written: the conditional update an unknown user's login attempt spends its time on. */
  decoySk: 'DECOY',
  tenantIndexPk: 'PLATFORM',
  tenantIndexSk: (tenantId: string) => `TENANT#${tenantId}`,
  secretHeads: (tenantId: string) => `T#${tenantId}#HEADS`,
  secretVersions: (tenantId: string, path: string) => `T#${tenantId}#SECRET#${path}`,
  versionSk: (version: number) => `V#${String(version).padStart(10, '0')}`,
  /** One audit chain per tenant (and one for the platform): its events and the shipper's mark. */
  auditChain: (chain: string) => (chain === 'platform' ? 'PLATFORM#AUDIT' : `T#${chain}#AUDIT`),
  auditShippedSk: 'SHIPPED',
  auditEventSk: (seq: number) => `E#${String(seq).padStart(12, '0')}`,
  sinkSk: (name: string) => `SINK#${name}`,
  /** The chain an audit item belongs to, from its partition key; undefined for other items. */
  chainOfAuditPk: (pk: string): string | undefined =>
    pk === 'PLATFORM#AUDIT' ? 'platform' : /^T#(ten_[a-z2-7]{20})#AUDIT$/.exec(pk)?.[1],
} as const;
