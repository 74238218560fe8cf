import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AccessRules } from '../../core/access/policy';
import { ConflictError, DependencyUnavailableError, InternalError, WriteConflictError } from '../../core/errors';
import type { PendingAudit } from '../../ports/audit-log';
import type {
  GroupRecord,
  IdentityKind,
  IdentityRecords,
  IdentityStore,
  NetworkRecord,
  OwnerDelta,
  SessionRecord,
  TokenSource,
  TokenState,
} from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import type { DynamoAuditLog } from './audit-log';
import { decodeCursor, encodeCursor } from './cursor';
import { dynamo } from './errors';
import { keys } from './keys';

/** Where each kind lives: clients keep the foundation's layout (META, CLIENT#id). */
const LAYOUT: Record<IdentityKind, { prefix: string; nameField: string; pk: (tenantId: string) => string }> = {
  user: { prefix: 'USER#', nameField: 'username', pk: keys.identity },
  group: { prefix: 'GROUP#', nameField: 'name', pk: keys.identity },
  policy: { prefix: 'ACCESS#POLICY#', nameField: 'name', pk: keys.identity },
  issuer: { prefix: 'ISSUER#', nameField: 'name', pk: keys.identity },
  'iam-binding': { prefix: 'IAMBIND#', nameField: 'name', pk: keys.identity },
  client: { prefix: 'CLIENT#', nameField: 'clientId', pk: (tenantId) => keys.clientPk(tenantId) },
};

/** 30 days of hourly refreshes fit with room to spare; the item stays far below 400 KB. */
const MAX_REFRESHES_PER_SESSION = 2000;
/** Sessions and nonces linger this long after they expire, then DynamoDB TTL removes them. */
const TTL_GRACE_SECONDS = 3600;
const isName = (p: unknown): p is string => typeof p === 'string' && p.length > 0 && p.length <= 256;

const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as T;
};

export class DynamoIdentityStore implements IdentityStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Needed by writers that commit audit events with their changes. */
    private readonly auditLog?: DynamoAuditLog,
  ) {}

  private key(tenantId: string, kind: IdentityKind, name: string) {
    const layout = LAYOUT[kind];
    return { pk: layout.pk(tenantId), sk: `${layout.prefix}${name}` };
  }

  async get<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K] | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: this.key(tenantId, kind, name), ConsistentRead: true })),
    );
    return Item ? strip<IdentityRecords[K]>(Item) : undefined;
  }

  async list<K extends IdentityKind>(tenantId: string, kind: K, page: PageRequest): Promise<Page<IdentityRecords[K]>> {
    const layout = LAYOUT[kind];
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isName);
    const pk = layout.pk(tenantId);
    const result = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': layout.prefix },
          ExclusiveStartKey: after === undefined ? undefined : { pk, sk: `${layout.prefix}${after}` },
          Limit: page.limit,
          ConsistentRead: true,
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => strip<IdentityRecords[K]>(item));
    const last = items.at(-1) as Record<string, unknown> | undefined;
    return { items, ...(result.LastEvaluatedKey && last ? { cursor: encodeCursor(String(last[layout.nameField])) } : {}) };
  }

  async all<K extends IdentityKind>(tenantId: string, kind: K): Promise<IdentityRecords[K][]> {
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
    const name = String((record as unknown as Record<string, unknown>)[LAYOUT[kind].nameField]);
    const condition =
      expectedRev === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': expectedRev } };
    const put = { Put: { TableName: this.table, Item: { ...this.key(tenantId, kind, name), ...record }, ...condition } };
    await this.commit([put, ...this.ownerChange(tenantId, owners)], owners, audit, expectedRev === undefined ? `'${name}' already exists.` : undefined);
  }

  async remove(tenantId: string, kind: IdentityKind, name: string, expectedRev: number, owners: OwnerDelta, audit?: PendingAudit): Promise<void> {
    const del = {
      Delete: {
        TableName: this.table,
        Key: this.key(tenantId, kind, name),
        ConditionExpression: '#rev = :rev',
        ExpressionAttributeNames: { '#rev': 'rev' },
        ExpressionAttributeValues: { ':rev': expectedRev },
      },
    };
    await this.commit([del, ...this.ownerChange(tenantId, owners)], owners, audit);
  }

  /** The Owner count moves in the same transaction; going below one fails the whole change. */
  private ownerChange(tenantId: string, owners: OwnerDelta) {
    if (owners === 0) return [];
    return [
      {
        Update: {
          TableName: this.table,
          Key: { pk: keys.identity(tenantId), sk: keys.ownersSk },
          UpdateExpression: 'ADD #count :delta',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':delta': owners, ...(owners < 0 ? { ':one': 1 } : {}) },
          ...(owners < 0 ? { ConditionExpression: '#count > :one' } : {}),
        },
      },
    ];
  }

  private async commit(items: Record<string, unknown>[], owners: OwnerDelta, audit: PendingAudit | undefined, existsMessage?: string) {
    if (!this.auditLog) throw new InternalError('identity store built without an audit log');
    try {
      await this.auditLog.transact(items as never, audit);
    } catch (error) {
      if (error instanceof WriteConflictError) {
        if (owners < 0 && (await this.ownerCount(String((items[1] as { Update: { Key: { pk: string } } }).Update.Key.pk))) <= 1) {
          throw new ConflictError('This would leave the tenant without an Owner; make someone else an Owner first.');
        }
        throw new ConflictError(existsMessage ?? 'The record changed since you read it (or no longer exists); read it again and retry.');
      }
      throw error;
    }
  }

  private async ownerCount(pk: string): Promise<number> {
    const { Item } = await dynamo(() => this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk: keys.ownersSk }, ConsistentRead: true })));
    return Number(Item?.count ?? 0);
  }

  async accessRules(tenantId: string): Promise<AccessRules> {
    const pk = keys.identity(tenantId);
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': 'ACCESS#' },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      items.push(...(result.Items ?? []));
      start = result.LastEvaluatedKey;
    } while (start);
    const network = items.find((item) => item.sk === keys.networkSk) as NetworkRecord | undefined;
    return {
      policies: items.filter((item) => String(item.sk).startsWith(LAYOUT.policy.prefix)).map((item) => strip(item)),
      tenantCidrs: network?.cidrs ?? [],
    };
  }

  async getNetwork(tenantId: string): Promise<NetworkRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keys.identity(tenantId), sk: keys.networkSk }, ConsistentRead: true })),
    );
    return Item ? strip<NetworkRecord>(Item) : undefined;
  }

  async saveNetwork(record: NetworkRecord, expectedRev: number | undefined, audit?: PendingAudit): Promise<void> {
    const condition =
      expectedRev === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': expectedRev } };
    const put = { Put: { TableName: this.table, Item: { pk: keys.identity(record.tenantId), sk: keys.networkSk, ...record }, ...condition } };
    await this.commit([put], 0, audit);
  }

  async recordFailure(tenantId: string, kind: 'user' | 'client', name: string, lockFor: (failures: number) => number | undefined): Promise<void> {
    const key = this.key(tenantId, kind, name);
    const counted = await this.bookkeeping(key, 'ADD failedAttempts :one, #rev :one', 'attribute_exists(pk)', {}, true);
    if (!counted) return; // deleted meanwhile: nothing to count
    // Decided from the count after this very failure, so a burst locks like a sequence.
    const until = lockFor(Number(counted.failedAttempts ?? 0));
    if (until !== undefined) await this.lock(key, until);
  }

  async recordSuccess(tenantId: string, kind: 'user' | 'client', name: string): Promise<void> {
    await this.bookkeeping(this.key(tenantId, kind, name), 'SET failedAttempts = :zero REMOVE lockedUntil ADD #rev :one', 'attribute_exists(pk)', { ':zero': 0 });
  }

  async reserveAttempt(tenantId: string, username: string, now: number, threshold: number, relockAt: (failures: number) => number | undefined): Promise<number | undefined> {
    const key = this.key(tenantId, 'user', username);
    const reserved = await this.bookkeeping(
      key,
      'ADD failedAttempts :one, #rev :one',
      'attribute_exists(pk) AND attribute_not_exists(lockedUntil) AND (attribute_not_exists(failedAttempts) OR failedAttempts < :threshold)',
      { ':threshold': threshold },
      true,
    );
    if (reserved) return Number(reserved.failedAttempts ?? 1);
    const user = await this.get(tenantId, 'user', username);
    if (!user) return undefined;
    if (user.lockedUntil === undefined) {
      // The streak's budget is taken: by attempts still in flight (whose failures will lock),
      // or by ones whose lock write was lost. Arm the lock here so the user is never stuck.
      const until = relockAt(user.failedAttempts ?? 0);
      if (until !== undefined) await this.lock(key, until);
      return undefined;
    }
    if (user.lockedUntil > now) return undefined;
    // The lock expired: exactly one attempt may go, and it re-arms the next, longer lock first.
    const failures = (user.failedAttempts ?? 0) + 1;
    const next = relockAt(failures);
    const claimed = await this.bookkeeping(
      key,
      next === undefined ? 'ADD failedAttempts :one, #rev :one REMOVE lockedUntil' : 'SET lockedUntil = :next ADD failedAttempts :one, #rev :one',
      'lockedUntil = :seen',
      { ':seen': user.lockedUntil, ...(next === undefined ? {} : { ':next': next }) },
    );
    return claimed ? failures : undefined;
  }

  async decoyAttempt(tenantId: string): Promise<void> {
    // The same conditional UpdateItem as a reservation, on a key that never exists: it fails.
    await this.bookkeeping({ pk: keys.identity(tenantId), sk: keys.decoySk }, 'ADD failedAttempts :one, #rev :one', 'attribute_exists(pk)', {}, true);
  }

  async lockUser(tenantId: string, username: string, until: number): Promise<void> {
    await this.lock(this.key(tenantId, 'user', username), until);
  }

  async claimOtpStep(tenantId: string, username: string, step: number): Promise<boolean> {
    const key = this.key(tenantId, 'user', username);
    return (await this.bookkeeping(key, 'SET totp.lastStep = :step ADD #rev :one', 'attribute_exists(totp) AND totp.lastStep < :step', { ':step': step })) !== undefined;
  }

  async claimNonce(tenantId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const put = new PutCommand({
      TableName: this.table,
      Item: { pk: keys.identity(tenantId), sk: keys.nonceSk(nonce), validUntil: expiresAt, expiresAt: ttl(expiresAt) },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    return (await this.ifCondition(put)) !== undefined;
  }

  /** Never shortens a lock already set (a later failure may have set a longer one). */
  private async lock(key: { pk: string; sk: string }, until: number): Promise<void> {
    await this.bookkeeping(key, 'SET lockedUntil = :until ADD #rev :one', 'attribute_exists(pk) AND (attribute_not_exists(lockedUntil) OR lockedUntil < :until)', { ':until': until });
  }

  /**
   * Login bookkeeping on a user or client: a conditional update that also moves `rev`, so
   * an admin edit read before it cannot write it away. Undefined when the condition failed.
   */
  private bookkeeping(key: { pk: string; sk: string }, update: string, condition: string, values: Record<string, unknown>, returnNew = false) {
    return this.ifCondition(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#rev': 'rev' },
        ExpressionAttributeValues: { ':one': 1, ...values },
        ...(returnNew ? { ReturnValues: 'UPDATED_NEW' as const } : {}),
      }),
    );
  }

  /** Runs a conditional write: its returned attributes ({} if none) when it applied, undefined when its condition failed. */
  private async ifCondition(command: UpdateCommand | PutCommand): Promise<Record<string, unknown> | undefined> {
    try {
      const result = (await dynamo(() => this.db.send(command as UpdateCommand))) as { Attributes?: Record<string, unknown> };
      return result.Attributes ?? {};
    } catch (error) {
      if (error instanceof WriteConflictError) return undefined;
      throw error;
    }
  }

  async createSession(session: SessionRecord): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: keys.identity(session.tenantId), sk: keys.sessionSk(session.sessionId), ...session, expiresAt: ttl(session.absoluteExpiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getSession(tenantId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keys.identity(tenantId), sk: keys.sessionSk(sessionId) }, ConsistentRead: true })),
    );
    return Item && Item.username !== undefined ? strip<SessionRecord>(Item) : undefined;
  }

  async rotateSession(tenantId: string, sessionId: string, presentedHash: string, nextHash: string, now: number, expiresAt: number): Promise<boolean> {
    const rotate = new UpdateCommand({
      TableName: this.table,
      Key: { pk: keys.identity(tenantId), sk: keys.sessionSk(sessionId) },
      UpdateExpression: 'SET currentHash = :next, refreshExpiresAt = :expires, spent = list_append(spent, :presented)',
      // A bounded item: past this many refreshes a session must log in again.
      ConditionExpression: 'currentHash = :current AND revoked = :false AND refreshExpiresAt > :now AND size(spent) < :maxSpent',
      ExpressionAttributeValues: {
        ':next': nextHash,
        ':expires': expiresAt,
        ':presented': [presentedHash],
        ':current': presentedHash,
        ':false': false,
        ':now': now,
        ':maxSpent': MAX_REFRESHES_PER_SESSION,
      },
    });
    return (await this.ifCondition(rotate)) !== undefined;
  }

  async revokeSession(tenantId: string, sessionId: string, expiresAt: number): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keys.identity(tenantId), sk: keys.sessionSk(sessionId) },
          // A token-only session (client, IAM, JWT) has no record yet: this makes a tombstone.
          UpdateExpression: 'SET revoked = :true, expiresAt = if_not_exists(expiresAt, :ttl)',
          ExpressionAttributeValues: { ':true': true, ':ttl': ttl(expiresAt) },
        }),
      ),
    );
  }

  async groups(tenantId: string, names: readonly string[]): Promise<GroupRecord[]> {
    if (names.length === 0) return [];
    const found = await this.batchGet(names.map((name) => this.key(tenantId, 'group', name)));
    return names.flatMap((name) => {
      const item = found.get(`${LAYOUT.group.prefix}${name}`);
      return item ? [strip<GroupRecord>(item)] : [];
    });
  }

  async loadTokenState(tenantId: string, source: TokenSource, sessionId: string | undefined, groups: readonly string[]): Promise<TokenState> {
    const sourceKey = this.key(tenantId, source.kind, source.name);
    const sessionKey = sessionId ? { pk: keys.identity(tenantId), sk: keys.sessionSk(sessionId) } : undefined;
    const found = await this.batchGet([sourceKey, ...(sessionKey ? [sessionKey] : []), ...groups.map((group) => this.key(tenantId, 'group', group))]);
    const sourceItem = found.get(sourceKey.sk);
    const sessionItem = sessionKey ? found.get(sessionKey.sk) : undefined;
    return {
      ...(sourceItem ? { source: strip(sourceItem) } : {}),
      ...(sessionItem ? { session: { ...strip<SessionRecord>(sessionItem), revoked: sessionItem.revoked === true } } : {}),
      groups: groups.flatMap((group) => {
        const item = found.get(`${LAYOUT.group.prefix}${group}`);
        return item ? [strip<GroupRecord>(item)] : [];
      }),
    };
  }

  /** One BatchGetItem (retrying unprocessed keys); items by sort key. Keys share no sort key. */
  private async batchGet(wanted: { pk: string; sk: string }[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    let pending: Record<string, unknown>[] = wanted;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 5) throw new DependencyUnavailableError('dynamodb');
      const result = await dynamo(() =>
        this.db.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } })),
      );
      for (const item of result.Responses?.[this.table] ?? []) found.set(String(item.sk), item);
      pending = (result.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
    return found;
  }
}

const ttl = (epochMs: number) => Math.ceil(epochMs / 1000) + TTL_GRACE_SECONDS;
