import { leadingKeys } from '../lambdas/adapters/dynamodb/keys';

// What the functions serving tenants' requests may reach in the table with their own role,
// that is outside any tenant's request: a tenant's request reaches its partitions only
// through the tenant-access role (token vending). One place: the stack builds these
// functions' policies from it, and test/support/tenant-confinement.ts judges every call
// those functions make without a tenant in scope against it.

export interface OwnTableGrant {
  readonly sid: string;
  readonly actions: readonly string[];
  /** IAM StringLike patterns for dynamodb:LeadingKeys (every key of the call must match one). */
  readonly leadingKeys: readonly string[];
}

/** A refused or anonymous caller's event, and the platform admin's: find the tail, then put. */
const appendToPlatformChain: OwnTableGrant = {
  sid: 'AppendToPlatformChain',
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  leadingKeys: [leadingKeys.platformAudit],
};

export const OWN_TABLE_GRANTS = {
  secrets: [appendToPlatformChain],
  // The platform admin's trail and its export are reads of the platform chain.
  audit: [appendToPlatformChain],
  identity: [
    appendToPlatformChain,
    // The platform admin's logout: its session is revoked, under an Idempotency-Key of its own.
    { sid: 'RevokePlatformSessions', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], leadingKeys: [leadingKeys.platformIdentity] },
    {
      sid: 'PlatformIdempotencyKeys',
      actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      leadingKeys: [leadingKeys.platformIdempotency],
    },
  ],
} as const satisfies Record<'secrets' | 'audit' | 'identity', readonly OwnTableGrant[]>;
