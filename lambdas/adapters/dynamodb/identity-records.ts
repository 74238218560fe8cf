import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, WriteConflictError } from '../../core/errors';
import type { PendingAudit } from '../../ports/audit-log';
import type { GroupRecord, IdentityKind, IdentityRecords, IdentityRecordStore, NetworkRecord, NetworkStore, OwnerDelta } from '../../ports/identity';
import type { Page, PageRequest } from '../../ports/page';
import type { DynamoAuditLog } from './audit-log';
import type { TransactItem } from './client';
import { decodeCursor, encodeCursor } from './cursor';
import { dynamo } from './errors';
import { batchGet, getItem, identityKey, LAYOUT, strip, type ItemKey } from './identity-items';
import { keys } from './keys';

const isName = (p: unknown): p is string => typeof p === 'string' && p.length > 0 && p.length <= 256;

/**
 * A tenant's identity records and network safelist. Every change commits in one
 * transaction with its audit event, and with the Owner count when it moves.
 */
export class DynamoIdentityRecords implements IdentityRecordStore, NetworkStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly auditLog: DynamoAuditLog,
  ) {}

  async get<K extends IdentityKind>(tenantId: string, kind: K, name: string): Promise<IdentityRecords[K] | undefined> {
    const item = await getItem(this.db, this.table, identityKey(tenantId, kind, name));
    return item ? strip<IdentityRecords[K]>(item) : undefined;
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

  async groups(tenantId: string, names: readonly string[]): Promise<GroupRecord[]> {
    if (names.length === 0) return [];
    const found = await batchGet(this.db, this.table, names.map((name) => identityKey(tenantId, 'group', name)));
    return names.flatMap((name) => {
      const item = found.get(identityKey(tenantId, 'group', name).sk);
      return item ? [strip<GroupRecord>(item)] : [];
    });
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
    const put: TransactItem = { Put: { TableName: this.table, Item: { ...identityKey(tenantId, kind, name), ...record }, ...revCondition(expectedRev) } };
    await this.commit(tenantId, [put, ...this.ownerChange(tenantId, owners)], owners, audit, expectedRev === undefined ? `'${name}' already exists.` : undefined);
  }

  async remove(tenantId: string, kind: IdentityKind, name: string, expectedRev: number, owners: OwnerDelta, audit?: PendingAudit): Promise<void> {
    const del: TransactItem = { Delete: { TableName: this.table, Key: identityKey(tenantId, kind, name), ...revCondition(expectedRev) } };
    await this.commit(tenantId, [del, ...this.ownerChange(tenantId, owners)], owners, audit);
  }

  async getNetwork(tenantId: string): Promise<NetworkRecord | undefined> {
    const item = await getItem(this.db, this.table, networkKey(tenantId));
    return item ? strip<NetworkRecord>(item) : undefined;
  }

  async saveNetwork(record: NetworkRecord, expectedRev: number | undefined, audit?: PendingAudit): Promise<void> {
    const put: TransactItem = { Put: { TableName: this.table, Item: { ...networkKey(record.tenantId), ...record }, ...revCondition(expectedRev) } };
    await this.commit(record.tenantId, [put], 0, audit);
  }

  /** The Owner count moves in the same transaction; going below one fails the whole change. */
  private ownerChange(tenantId: string, owners: OwnerDelta): TransactItem[] {
    if (owners === 0) return [];
    return [
      {
        Update: {
          TableName: this.table,
          Key: ownersKey(tenantId),
          UpdateExpression: 'ADD #count :delta',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':delta': owners, ...(owners < 0 ? { ':one': 1 } : {}) },
          ...(owners < 0 ? { ConditionExpression: '#count > :one' } : {}),
        },
      },
    ];
  }

  private async commit(tenantId: string, items: TransactItem[], owners: OwnerDelta, audit: PendingAudit | undefined, existsMessage?: string): Promise<void> {
    try {
      await this.auditLog.transact(items, audit);
    } catch (error) {
      if (!(error instanceof WriteConflictError)) throw error;
      if (owners < 0 && (await this.ownerCount(tenantId)) <= 1) {
        throw new ConflictError('This would leave the tenant without an Owner; make someone else an Owner first.');
      }
      throw new ConflictError(existsMessage ?? 'The record changed since you read it (or no longer exists); read it again and retry.');
    }
  }

  private async ownerCount(tenantId: string): Promise<number> {
    const item = await getItem(this.db, this.table, ownersKey(tenantId));
    return Number(item?.count ?? 0);
  }
}

/** Create (nothing there yet) or replace (the stored rev is the one the caller read). */
function revCondition(expectedRev: number | undefined) {
  return expectedRev === undefined
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': expectedRev } };
}

const networkKey = (tenantId: string): ItemKey => ({ pk: keys.identity(tenantId), sk: keys.networkSk });
const ownersKey = (tenantId: string): ItemKey => ({ pk: keys.identity(tenantId), sk: keys.ownersSk });
