import type { AccessPolicy, AccessRules } from '../core/access/policy';
import type { Role } from '../core/principal';
import type { PendingAudit } from './audit-log';
import type { Page, PageRequest } from './page';
import type { ClientRecord } from './tenant-repository';

// A tenant's identities and access rules. Every record carries `rev` (optimistic
// concurrency for admin edits) and, for things that mint tokens, `generation`: bumping it
// revokes every token minted before (the authorizer compares it on each check).

export interface Stamped {
  readonly rev: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** Repeated failures lock a credential for a while (see core/identity/lockout.ts). */
export interface LockoutState {
  readonly failedAttempts?: number;
  /** Epoch ms. */
  readonly lockedUntil?: number;
}

export interface TotpState {
  readonly status: 'pending' | 'enabled';
  /** The seed sealed under the tenant's data key (base64). */
  readonly sealedSecret: string;
  /** The last time step accepted: a code is never accepted twice. */
  readonly lastStep: number;
}

export interface UserRecord extends Stamped, LockoutState {
  readonly tenantId: string;
  readonly username: string;
  readonly displayName?: string;
  readonly passwordHash: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly generation: number;
  readonly totp?: TotpState;
}

export interface GroupRecord extends Stamped {
  readonly tenantId: string;
  readonly name: string;
  readonly description?: string;
  readonly roles: readonly Role[];
}

export interface PolicyRecord extends Stamped, AccessPolicy {
  readonly tenantId: string;
}

export interface ClaimBinding {
  /** Claim name → expected value (`*` wildcards allowed); all must match. */
  readonly claims: Readonly<Record<string, string>>;
  readonly roles: readonly Role[];
  readonly groups?: readonly string[];
}

export interface IssuerRecord extends Stamped {
  readonly tenantId: string;
  readonly name: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audiences: readonly string[];
  readonly bindings: readonly ClaimBinding[];
  readonly status: 'active' | 'disabled';
  readonly generation: number;
}

export interface IamBindingRecord extends Stamped {
  readonly tenantId: string;
  readonly name: string;
  /** An IAM ARN with `*` wildcards; assumed-role sessions match their role's ARN too. */
  readonly arnPattern: string;
  readonly roles: readonly Role[];
  readonly groups?: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly generation: number;
}

export interface NetworkRecord {
  readonly tenantId: string;
  readonly cidrs: readonly string[];
  readonly rev: number;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/** A login session: the family of refresh tokens of one password login. */
export interface SessionRecord {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly username: string;
  /** sha256 of the refresh token that is valid now; spent ones revoke the family if replayed. */
  readonly currentHash: string;
  readonly spent: readonly string[];
  readonly generation: number;
  readonly mfa: boolean;
  readonly createdAt: number;
  /** Sliding: each use moves it 48 h ahead, never past absoluteExpiresAt. */
  readonly refreshExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly revoked: boolean;
}

export type IdentityKind = 'user' | 'group' | 'policy' | 'issuer' | 'iam-binding' | 'client';

export interface IdentityRecords {
  user: UserRecord;
  group: GroupRecord;
  policy: PolicyRecord;
  issuer: IssuerRecord;
  'iam-binding': IamBindingRecord;
  client: ClientRecord;
}

/** A change to the count of direct Owners, checked so the last one can never go. */
export type OwnerDelta = -1 | 0 | 1;

/** What logins and admin checks read: one record, all of a kind, the named groups. */
export interface IdentityRecordReader {
  get<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K] | undefined>;
  /** All of a kind (policies, bindings: bounded by their per-tenant caps). */
  all<K extends IdentityKind>(tenantId: string, kind: K): Promise<IdentityRecords[K][]>;
  /** The named groups that exist (one read). */
  groups(tenantId: string, names: readonly string[]): Promise<GroupRecord[]>;
}

/** Users, clients, groups, policies, issuers and IAM bindings, as administration edits them. */
export interface IdentityRecordStore extends IdentityRecordReader {
  list<K extends IdentityKind>(tenantId: string, kind: K, page: PageRequest): Promise<Page<IdentityRecords[K]>>;
  /**
   * Creates (expectedRev undefined, ConflictError if present) or replaces (the stored rev
   * must equal expectedRev, else VersionConflict-like ConflictError); with the audit event.
   */
  save<K extends IdentityKind>(tenantId: string, kind: K, record: IdentityRecords[K], expectedRev: number | undefined, owners: OwnerDelta, audit?: PendingAudit): Promise<void>;
  remove(tenantId: string, kind: IdentityKind, name: string, expectedRev: number, owners: OwnerDelta, audit?: PendingAudit): Promise<void>;
}

/** A tenant's policies and network safelist in one read: what every access check needs. */
export interface AccessRuleSource {
  accessRules(tenantId: string): Promise<AccessRules>;
}

/** The tenant-wide network safelist, as its Owners edit it. */
export interface NetworkStore {
  getNetwork(tenantId: string): Promise<NetworkRecord | undefined>;
  saveNetwork(record: NetworkRecord, expectedRev: number | undefined, audit?: PendingAudit): Promise<void>;
}

/** Login bookkeeping, outside the admin flow (the request's event is appended after). */
export interface LoginBookkeeping {
  /** A right password ends the user's failure streak and lifts an expired lock. */
  recordSuccess(tenantId: string, kind: 'user', name: string): Promise<void>;
  /** Failed client-secret checks from `source` in the window starting at `windowStart` (epoch ms). */
  sourceFailures(source: string, windowStart: number): Promise<number>;
  /** Counts one failed client-secret check from `source`, atomically; forgotten after `windowEnd`. */
  countSourceFailure(source: string, windowStart: number, windowEnd: number): Promise<void>;
  /**
   * Claims one password attempt before it is checked, atomically: while fewer than
   * `threshold` failures are pending or counted and no lock is set, or as the single first
   * attempt after a lock expired (which pre-sets `relockAt`). Returns the attempt's number
   * in the failure streak, or undefined when refused. A burst gets `threshold` tries, not one each.
   */
  reserveAttempt(tenantId: string, username: string, now: number, threshold: number, relockAt: (failures: number) => number | undefined): Promise<number | undefined>;
  /**
   * Costs what reserveAttempt costs for a user that exists, and changes nothing: a login
   * for an unknown user takes as long as one for a known user, so timing tells no names.
   */
  decoyAttempt(tenantId: string): Promise<void>;
  /** Locks a user until `until` (never shortening an existing lock). */
  lockUser(tenantId: string, username: string, until: number): Promise<void>;
  /** Accepts a TOTP step once: false if this or a later step was already used. */
  claimOtpStep(tenantId: string, username: string, step: number): Promise<boolean>;
  /** Remembers a one-time value until expiresAt (epoch ms); false if already seen. */
  claimNonce(tenantId: string, nonce: string, expiresAt: number): Promise<boolean>;
}

/** Ending a session: all logout needs. */
export interface SessionRevoker {
  /** Revokes a session (creates a tombstone for token-only sessions) until expiresAt. */
  revokeSession(tenantId: string, sessionId: string, expiresAt: number): Promise<void>;
}

/** Login sessions: the refresh-token families of password logins. */
export interface SessionStore extends SessionRevoker {
  createSession(session: SessionRecord): Promise<void>;
  getSession(tenantId: string, sessionId: string): Promise<SessionRecord | undefined>;
  /** Moves the family to a new refresh token iff `presentedHash` is still its current one. */
  rotateSession(tenantId: string, sessionId: string, presentedHash: string, nextHash: string, now: number, expiresAt: number): Promise<boolean>;
}

/** The authorizer's per-token check, in one read: the minting record, session, groups. */
export interface TokenStateReader {
  loadTokenState(tenantId: string, source: TokenSource, sessionId: string | undefined, groups: readonly string[]): Promise<TokenState>;
}

/** Every slice at once, as an in-memory stand-in offers them; each Lambda takes only its own. */
export type IdentityStore = IdentityRecordStore & AccessRuleSource & NetworkStore & LoginBookkeeping & SessionStore & TokenStateReader;

/** The record a token was minted from: its generation and status gate the token. */
export interface TokenSource {
  readonly kind: 'user' | 'client' | 'issuer' | 'iam-binding';
  readonly name: string;
}

export interface TokenState {
  readonly source?: UserRecord | ClientRecord | IssuerRecord | IamBindingRecord;
  readonly session?: SessionRecord;
  readonly groups: readonly GroupRecord[];
}
