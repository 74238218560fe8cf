// An in-memory IdentityStore (every slice at once) mirroring the DynamoDB adapters in
// lambdas/adapters/dynamodb/ (identity-records, login-bookkeeping, sessions, token-state):
//   - save/remove are conditional on `rev` (create: must be absent; replace/remove: the
//     stored rev must equal expectedRev) and move the tenant's Owner count in the same
//     "transaction": going to or below zero Owners refuses the whole change;
//   - every conditional failure surfaces as the adapter's ConflictError messages;
//   - recordSuccess touches only existing records (a deleted one is ignored); source
//     failures count per source and window;
//   - claimOtpStep accepts strictly increasing steps only, claimNonce once per nonce;
//   - sessions: create (must be new), get (tombstones are invisible), rotate (only if the
//     presented hash is current, not revoked, not expired), revoke (tombstone if missing);
//   - groups()/loadTokenState() are one BatchGetItem: duplicate keys or more than 100 keys
//     are a ValidationException, which the adapter turns into an InternalError.
// Clients live in the InMemoryClientRepository when one is given, as they share rows with
// the ClientRepository in DynamoDB. Every method counts its calls.
import type { AccessRules } from '../../../lambdas/core/access/policy';
import { chainEvent, EMPTY_CHAIN, type AuditEvent, type ChainHead } from '../../../lambdas/core/audit';
import { ConflictError, InternalError, WriteConflictError } from '../../../lambdas/core/errors';
import type { PendingAudit } from '../../../lambdas/ports/audit-log';
import type {
  GroupRecord,
  IdentityKind,
  IdentityRecords,
  IdentityStore,
  NetworkRecord,
  OwnerDelta,
  PolicyRecord,
  SessionRecord,
  TokenSource,
  TokenState,
} from '../../../lambdas/ports/identity';
import type { Page, PageRequest } from '../../../lambdas/ports/page';
import type { ClientRecord } from '../../../lambdas/ports/tenant-repository';
import type { InMemoryClientRepository } from './fakes';

const NAME_FIELD: Record<IdentityKind, string> = {
  user: 'username',
  group: 'name',
  policy: 'name',
  issuer: 'name',
  'iam-binding': 'name',
  client: 'clientId',
};

const OWNERLESS = 'This would leave the tenant without an Owner; make someone else an Owner first.';
const CHANGED = 'The record changed since you read it (or no longer exists); read it again and retry.';
const BATCH_LIMIT = 100;

/** A stored session row: a full SessionRecord, or a tombstone left by revokeSession. */
export interface SessionTombstone {
  readonly revoked: true;
  /** Epoch ms until which the tombstone is kept (the adapter's TTL). */
  readonly ttlUntil: number;
}
export type StoredSession = SessionRecord | SessionTombstone;
const isTombstone = (s: StoredSession): s is SessionTombstone => !('username' in s);

const copy = <T>(value: T): T => structuredClone(value);

function encodeCursor(name: string): string {
  return Buffer.from(JSON.stringify({ p: name }), 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string {
  return (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p: string }).p;
}

type Calls = Record<
  | 'get'
  | 'list'
  | 'all'
  | 'save'
  | 'remove'
  | 'groups'
  | 'accessRules'
  | 'getNetwork'
  | 'saveNetwork'
  | 'sourceFailures'
  | 'countSourceFailure'
  | 'recordSuccess'
  | 'reserveAttempt'
  | 'decoyAttempt'
  | 'lockUser'
  | 'claimOtpStep'
  | 'claimNonce'
  | 'createSession'
  | 'getSession'
  | 'rotateSession'
  | 'revokeSession'
  | 'loadTokenState',
  number
>;

const zeroCalls = (): Calls => ({
  get: 0,
  list: 0,
  all: 0,
  save: 0,
  remove: 0,
  groups: 0,
  accessRules: 0,
  getNetwork: 0,
  saveNetwork: 0,
  sourceFailures: 0,
  countSourceFailure: 0,
  recordSuccess: 0,
  reserveAttempt: 0,
  decoyAttempt: 0,
  lockUser: 0,
  claimOtpStep: 0,
  claimNonce: 0,
  createSession: 0,
  getSession: 0,
  rotateSession: 0,
  revokeSession: 0,
  loadTokenState: 0,
});

export class InMemoryIdentityStore implements IdentityStore {
  readonly calls: Calls = zeroCalls();
  /** Records other than clients, by `tenant|kind|name`. */
  private readonly records = new Map<string, Record<string, unknown>>();
  /** Clients, when no InMemoryClientRepository was given (same `scope#clientId` keys). */
  private readonly ownClients = new Map<string, ClientRecord>();
  private readonly owners = new Map<string, number>();
  private readonly networks = new Map<string, NetworkRecord>();
  /** Claimed nonces, by `tenant|nonce`, with the validUntil they were claimed for. */
  readonly nonces = new Map<string, number>();
  private readonly sessions = new Map<string, StoredSession>();
  /** Audit events committed with changes, in order. */
  readonly audits: AuditEvent[] = [];
  private readonly chains = new Map<string, ChainHead>();
  /** The next N conditional admin writes (save, remove, saveNetwork) lose a race. */
  conflictingWrites = 0;

  constructor(private readonly clientRepo?: InMemoryClientRepository) {}

  // ---- records ---------------------------------------------------------------------------

  private clientMap(): Map<string, ClientRecord> {
    return this.clientRepo?.clients ?? this.ownClients;
  }

  private read(tenantId: string, kind: IdentityKind, name: string): Record<string, unknown> | undefined {
    if (kind === 'client') return this.clientMap().get(`${tenantId}#${name}`) as unknown as Record<string, unknown> | undefined;
    return this.records.get(`${tenantId}|${kind}|${name}`);
  }

  private write(tenantId: string, kind: IdentityKind, name: string, record: Record<string, unknown> | undefined): void {
    if (kind === 'client') {
      if (record === undefined) this.clientMap().delete(`${tenantId}#${name}`);
      else this.clientMap().set(`${tenantId}#${name}`, record as unknown as ClientRecord);
      return;
    }
    if (record === undefined) this.records.delete(`${tenantId}|${kind}|${name}`);
    else this.records.set(`${tenantId}|${kind}|${name}`, record);
  }

  private names(tenantId: string, kind: IdentityKind): string[] {
    if (kind === 'client') {
      const prefix = `${tenantId}#`;
      return [...this.clientMap().keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    }
    const prefix = `${tenantId}|${kind}|`;
    return [...this.records.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  async get<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K] | undefined> {
    this.calls.get++;
    const found = this.read(tenantId, kind, name);
    return found ? (copy(found) as unknown as IdentityRecords[K]) : undefined;
  }

  async list<K extends IdentityKind>(tenantId: string, kind: K, page: PageRequest): Promise<Page<IdentityRecords[K]>> {
    this.calls.list++;
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const names = this.names(tenantId, kind)
      .filter((n) => after === undefined || n > after)
      .sort();
    const items = names.slice(0, page.limit).map((n) => copy(this.read(tenantId, kind, n)!) as unknown as IdentityRecords[K]);
    // DynamoDB answers a LastEvaluatedKey whenever it stopped at Limit, more items or not.
    const last = items.at(-1) as Record<string, unknown> | undefined;
    return { items, ...(items.length === page.limit && last ? { cursor: encodeCursor(String(last[NAME_FIELD[kind]])) } : {}) };
  }

  async all<K extends IdentityKind>(tenantId: string, kind: K): Promise<IdentityRecords[K][]> {
    this.calls.all++;
    const out: IdentityRecords[K][] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list(tenantId, kind, { limit: 1000, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  async save<K extends IdentityKind>(
    tenantId: string,
    kind: K,
    record: IdentityRecords[K],
    expectedRev: number | undefined,
    owners: OwnerDelta,
    audit?: PendingAudit,
  ): Promise<void> {
    this.calls.save++;
    const name = String((record as unknown as Record<string, unknown>)[NAME_FIELD[kind]]);
    const stored = this.read(tenantId, kind, name);
    const ok = expectedRev === undefined ? stored === undefined : stored !== undefined && stored.rev === expectedRev;
    this.commit(tenantId, ok, owners, audit, expectedRev === undefined ? `'${name}' already exists.` : undefined, () =>
      this.write(tenantId, kind, name, copy(record) as unknown as Record<string, unknown>),
    );
  }

  async remove(tenantId: string, kind: IdentityKind, name: string, expectedRev: number, owners: OwnerDelta, audit?: PendingAudit): Promise<void> {
    this.calls.remove++;
    const stored = this.read(tenantId, kind, name);
    const ok = stored !== undefined && stored.rev === expectedRev;
    this.commit(tenantId, ok, owners, audit, undefined, () => this.write(tenantId, kind, name, undefined));
  }

  /** One transaction: the record's condition, the Owner count's, then the audit event. */
  private commit(tenantId: string, conditionHolds: boolean, owners: OwnerDelta, audit: PendingAudit | undefined, existsMessage: string | undefined, apply: () => void): void {
    const count = this.owners.get(tenantId);
    // `ADD #count :delta` with `#count > :one` when removing an Owner (absent fails too).
    const ownersHold = owners >= 0 || (count !== undefined && count > 1);
    let raced = false;
    if (this.conflictingWrites > 0) {
      this.conflictingWrites--;
      raced = true;
    }
    if (!conditionHolds || !ownersHold || raced) {
      if (owners < 0 && (count ?? 0) <= 1) throw new ConflictError(OWNERLESS);
      throw new ConflictError(existsMessage ?? CHANGED);
    }
    apply();
    if (owners !== 0) this.owners.set(tenantId, (count ?? 0) + owners);
    if (audit) {
      const head = this.chains.get(audit.draft.chain) ?? EMPTY_CHAIN;
      const event = chainEvent(head, audit.draft);
      this.chains.set(audit.draft.chain, { seq: event.seq, hash: event.hash });
      this.audits.push(event);
      audit.recorded(event);
    }
  }

  // ---- groups, rules, network -----------------------------------------------------------

  private batchGet(keys: readonly string[]): void {
    if (keys.length > BATCH_LIMIT || new Set(keys).size !== keys.length) throw new InternalError('DynamoDB rejected a request');
  }

  async groups(tenantId: string, names: readonly string[]): Promise<GroupRecord[]> {
    this.calls.groups++;
    if (names.length === 0) return [];
    this.batchGet(names.map((n) => `group|${n}`));
    return names.flatMap((n) => {
      const found = this.read(tenantId, 'group', n);
      return found ? [copy(found) as unknown as GroupRecord] : [];
    });
  }

  async accessRules(tenantId: string): Promise<AccessRules> {
    this.calls.accessRules++;
    const policies = this.names(tenantId, 'policy')
      .sort()
      .map((n) => copy(this.read(tenantId, 'policy', n)!) as unknown as PolicyRecord);
    return { policies, tenantCidrs: [...(this.networks.get(tenantId)?.cidrs ?? [])] };
  }

  async getNetwork(tenantId: string): Promise<NetworkRecord | undefined> {
    this.calls.getNetwork++;
    const found = this.networks.get(tenantId);
    return found ? copy(found) : undefined;
  }

  async saveNetwork(record: NetworkRecord, expectedRev: number | undefined, audit?: PendingAudit): Promise<void> {
    this.calls.saveNetwork++;
    const stored = this.networks.get(record.tenantId);
    const ok = expectedRev === undefined ? stored === undefined : stored !== undefined && stored.rev === expectedRev;
    this.commit(record.tenantId, ok, 0, audit, undefined, () => this.networks.set(record.tenantId, copy(record)));
  }

  // ---- login bookkeeping ----------------------------------------------------------------

  /** Failed client logins per `source|windowStart`. */
  readonly sourceCounts = new Map<string, number>();

  async sourceFailures(source: string, windowStart: number): Promise<number> {
    this.calls.sourceFailures++;
    return this.sourceCounts.get(`${source}|${windowStart}`) ?? 0;
  }

  async countSourceFailure(source: string, windowStart: number, _windowEnd: number): Promise<void> {
    this.calls.countSourceFailure++;
    const key = `${source}|${windowStart}`;
    this.sourceCounts.set(key, (this.sourceCounts.get(key) ?? 0) + 1);
  }

  async recordSuccess(tenantId: string, kind: 'user', name: string): Promise<void> {
    this.calls.recordSuccess++;
    const stored = this.read(tenantId, kind, name);
    if (!stored) return;
    const { lockedUntil: _until, ...rest } = stored;
    this.write(tenantId, kind, name, { ...rest, failedAttempts: 0 });
  }

  async reserveAttempt(tenantId: string, username: string, now: number, threshold: number, relockAt: (failures: number) => number | undefined): Promise<number | undefined> {
    this.calls.reserveAttempt++;
    const stored = this.read(tenantId, 'user', username);
    if (!stored) return undefined;
    const failures = (stored.failedAttempts as number | undefined) ?? 0;
    const lockedUntil = stored.lockedUntil as number | undefined;
    if (lockedUntil === undefined && failures < threshold) {
      this.write(tenantId, 'user', username, { ...stored, failedAttempts: failures + 1, rev: (stored.rev as number) + 1 });
      return failures + 1;
    }
    if (lockedUntil === undefined) {
      const until = relockAt(failures);
      if (until !== undefined) this.write(tenantId, 'user', username, { ...stored, lockedUntil: until, rev: (stored.rev as number) + 1 });
      return undefined;
    }
    if (lockedUntil > now) return undefined;
    const next = relockAt(failures + 1);
    const { lockedUntil: _old, ...rest } = stored;
    this.write(tenantId, 'user', username, { ...rest, failedAttempts: failures + 1, rev: (stored.rev as number) + 1, ...(next === undefined ? {} : { lockedUntil: next }) });
    return failures + 1;
  }

  async decoyAttempt(_tenantId: string): Promise<void> {
    this.calls.decoyAttempt++;
  }

  async lockUser(tenantId: string, username: string, until: number): Promise<void> {
    this.calls.lockUser++;
    const stored = this.read(tenantId, 'user', username);
    if (!stored) return;
    const current = stored.lockedUntil as number | undefined;
    if (current !== undefined && current >= until) return;
    this.write(tenantId, 'user', username, { ...stored, lockedUntil: until, rev: (stored.rev as number) + 1 });
  }

  async claimOtpStep(tenantId: string, username: string, step: number): Promise<boolean> {
    this.calls.claimOtpStep++;
    const stored = this.read(tenantId, 'user', username);
    const totp = stored?.totp as { lastStep: number } | undefined;
    if (!stored || !totp || !(totp.lastStep < step)) return false;
    this.write(tenantId, 'user', username, { ...stored, totp: { ...totp, lastStep: step } });
    return true;
  }

  async claimNonce(tenantId: string, nonce: string, expiresAt: number): Promise<boolean> {
    this.calls.claimNonce++;
    const key = `${tenantId}|${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.set(key, expiresAt);
    return true;
  }

  // ---- sessions -------------------------------------------------------------------------

  async createSession(session: SessionRecord): Promise<void> {
    this.calls.createSession++;
    const key = `${session.tenantId}|${session.sessionId}`;
    if (this.sessions.has(key)) throw new WriteConflictError('The item changed concurrently.');
    this.sessions.set(key, copy(session));
  }

  async getSession(tenantId: string, sessionId: string): Promise<SessionRecord | undefined> {
    this.calls.getSession++;
    const stored = this.sessions.get(`${tenantId}|${sessionId}`);
    return stored && !isTombstone(stored) ? copy(stored) : undefined;
  }

  async rotateSession(tenantId: string, sessionId: string, presentedHash: string, nextHash: string, now: number, expiresAt: number): Promise<boolean> {
    this.calls.rotateSession++;
    const key = `${tenantId}|${sessionId}`;
    const stored = this.sessions.get(key);
    if (!stored || isTombstone(stored) || stored.currentHash !== presentedHash || stored.revoked !== false || !(stored.refreshExpiresAt > now)) return false;
    this.sessions.set(key, { ...stored, currentHash: nextHash, refreshExpiresAt: expiresAt, spent: [...stored.spent, presentedHash] });
    return true;
  }

  async revokeSession(tenantId: string, sessionId: string, expiresAt: number): Promise<void> {
    this.calls.revokeSession++;
    const key = `${tenantId}|${sessionId}`;
    const stored = this.sessions.get(key);
    this.sessions.set(key, stored ? { ...stored, revoked: true } : { revoked: true, ttlUntil: expiresAt });
  }

  async loadTokenState(tenantId: string, source: TokenSource, sessionId: string | undefined, groups: readonly string[]): Promise<TokenState> {
    this.calls.loadTokenState++;
    this.batchGet([`${source.kind}|${source.name}`, ...(sessionId ? [`session|${sessionId}`] : []), ...groups.map((g) => `group|${g}`)]);
    const record = this.read(tenantId, source.kind, source.name);
    const session = sessionId ? this.sessions.get(`${tenantId}|${sessionId}`) : undefined;
    // A tombstone reads back as `{ revoked: true }` alone, as the adapter's strip() leaves it.
    const sessionState: SessionRecord | undefined =
      session === undefined ? undefined : isTombstone(session) ? ({ revoked: true } as unknown as SessionRecord) : { ...copy(session), revoked: session.revoked === true };
    return {
      ...(record ? { source: copy(record) as unknown as TokenState['source'] } : {}),
      ...(sessionState ? { session: sessionState } : {}),
      groups: groups.flatMap((g) => {
        const found = this.read(tenantId, 'group', g);
        return found ? [copy(found) as unknown as GroupRecord] : [];
      }),
    };
  }

  // ---- test helpers ---------------------------------------------------------------------

  /** Stores a record as is, with no condition, no Owner count and no call counted. */
  seed<K extends IdentityKind>(tenantId: string, kind: K, record: IdentityRecords[K]): void {
    const name = String((record as unknown as Record<string, unknown>)[NAME_FIELD[kind]]);
    this.write(tenantId, kind, name, copy(record) as unknown as Record<string, unknown>);
  }

  /** The stored record itself (a copy), without counting a call. */
  peek<K extends IdentityKind>(tenantId: string, kind: K, name: string): IdentityRecords[K] | undefined {
    const found = this.read(tenantId, kind, name);
    return found ? (copy(found) as unknown as IdentityRecords[K]) : undefined;
  }

  /** The stored session row, tombstones included, without counting a call. */
  peekSession(tenantId: string, sessionId: string): StoredSession | undefined {
    const found = this.sessions.get(`${tenantId}|${sessionId}`);
    return found ? copy(found) : undefined;
  }

  /** Replaces a stored session row (e.g. to age it), without counting a call. */
  putSession(session: StoredSession & { tenantId?: string; sessionId?: string }, tenantId = session.tenantId!, sessionId = session.sessionId!): void {
    this.sessions.set(`${tenantId}|${sessionId}`, copy(session));
  }

  /** The Owner count, as onboarding leaves it (1) and save/remove move it. */
  ownerCount(tenantId: string): number | undefined {
    return this.owners.get(tenantId);
  }
  setOwnerCount(tenantId: string, count: number): void {
    this.owners.set(tenantId, count);
  }

  resetCalls(): void {
    Object.assign(this.calls, zeroCalls());
  }
}
