import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DeadlineExceededError, InternalError } from '../../core/errors';
import { commitClaimItem } from './idempotency-store';
import { whyInvalidPath, type SecretPath } from '../../core/secret-path';
import type { Page, PageRequest } from '../../ports/page';
import type {
  SecretHead,
  SecretRepository,
  SecretSummary,
  SecretVersionInfo,
  SecretVersionRecord,
} from '../../ports/secret-repository';
import type { PendingAudit } from '../../ports/audit-log';
import type { DynamoAuditLog } from './audit-log';
import { decodeCursor, encodeCursor } from './cursor';
import { dynamo } from './errors';
import { keys } from './keys';

interface HeadItem {
  pk: string;
  sk: string;
  path: string;
  version: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  description?: string;
  tags: Record<string, string>;
  deletedAt?: string;
  deletedBy?: string;
  purging?: boolean;
  latestCreatedAt: string;
  latestCreatedBy: string;
  latestKeyVersion: number;
  latestCiphertext: Uint8Array;
}

interface VersionItem {
  pk: string;
  sk: string;
  path: string;
  version: number;
  createdAt: string;
  createdBy: string;
  keyVersion: number;
  ciphertext: Uint8Array;
}

const SUMMARY_ATTRIBUTES = ['path', 'version', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy', 'description', 'tags', 'deletedAt', 'deletedBy'];
const VERSION_INFO_ATTRIBUTES = ['version', 'createdAt', 'createdBy', 'keyVersion'];
const BATCH_WRITE_LIMIT = 25;

type UpdateInput = UpdateCommandInput & { UpdateExpression: string };

const isPathPosition = (p: unknown): p is string => typeof p === 'string' && whyInvalidPath(p) === undefined;
const isVersionPosition = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0;

/** One tenant's secrets in the single table: heads in one partition, versions per secret. */
export class DynamoSecretRepository implements SecretRepository {
  private readonly headsPk: string;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly tenantId: string,
    private readonly auditLog: DynamoAuditLog,
  ) {
    this.headsPk = keys.secretHeads(tenantId);
  }

  async head(path: SecretPath): Promise<SecretHead | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: { pk: this.headsPk, sk: path }, ConsistentRead: true })),
    );
    return Item ? toHead(Item as HeadItem) : undefined;
  }

  async version(path: SecretPath, version: number): Promise<SecretVersionRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: keys.secretVersions(this.tenantId, path), sk: keys.versionSk(version) },
          ConsistentRead: true,
        }),
      ),
    );
    return Item ? toVersion(Item as VersionItem) : undefined;
  }

  async writeVersion(head: SecretHead, expect: number | 'absent', audit?: PendingAudit): Promise<void> {
    const { latest } = head;
    if (latest.version !== head.version || latest.path !== head.path) throw new InternalError('head and version disagree');
    const headItem: HeadItem = {
      pk: this.headsPk,
      sk: head.path,
      path: head.path,
      version: head.version,
      createdAt: head.createdAt,
      createdBy: head.createdBy,
      updatedAt: head.updatedAt,
      updatedBy: head.updatedBy,
      ...(head.description === undefined ? {} : { description: head.description }),
      tags: { ...head.tags },
      latestCreatedAt: latest.createdAt,
      latestCreatedBy: latest.createdBy,
      latestKeyVersion: latest.keyVersion,
      latestCiphertext: latest.ciphertext,
    };
    const versionItem: VersionItem = {
      pk: keys.secretVersions(this.tenantId, head.path),
      sk: keys.versionSk(latest.version),
      path: head.path,
      version: latest.version,
      createdAt: latest.createdAt,
      createdBy: latest.createdBy,
      keyVersion: latest.keyVersion,
      ciphertext: latest.ciphertext,
    };
    // Head and version in one transaction: never a head pointing at a missing version,
    // and the head's version condition makes every lost race visible instead of lost.
    const headCondition =
      expect === 'absent'
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :expect AND attribute_not_exists(deletedAt)',
            ExpressionAttributeValues: { ':expect': expect },
          };
    await this.auditLog.transact(
      [
        { Put: { TableName: this.table, Item: headItem, ...headCondition } },
        { Put: { TableName: this.table, Item: versionItem, ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
      audit,
    );
  }

  async list(prefix: string, page: PageRequest, includeDeleted: boolean): Promise<Page<SecretSummary>> {
    const start = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isPathPosition);
    const items: SecretSummary[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined = start === undefined ? undefined : { pk: this.headsPk, sk: start };
    // A filter can thin out a DynamoDB page, so keep reading until the page is full; the
    // cursor is then the last item returned, not DynamoDB's LastEvaluatedKey.
    do {
      const result = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
            ...(includeDeleted ? {} : { FilterExpression: 'attribute_not_exists(deletedAt)' }),
            ExpressionAttributeValues: { ':pk': this.headsPk, ...(prefix ? { ':prefix': prefix } : {}) },
            ProjectionExpression: SUMMARY_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(SUMMARY_ATTRIBUTES.map((name, i) => [`#a${i}`, name])),
            ExclusiveStartKey: exclusiveStartKey,
            Limit: page.limit + 1,
            ConsistentRead: true,
          }),
        ),
      );
      for (const item of result.Items ?? []) items.push(toSummary(item as HeadItem));
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (items.length <= page.limit && exclusiveStartKey);
    const pageItems = items.slice(0, page.limit);
    const more = items.length > page.limit;
    const last = pageItems.at(-1);
    return { items: pageItems, ...(more && last ? { cursor: encodeCursor(last.path) } : {}) };
  }

  async listVersions(path: SecretPath, page: PageRequest): Promise<Page<SecretVersionInfo>> {
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isVersionPosition);
    const pk = keys.secretVersions(this.tenantId, path);
    const result = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': pk, ':v': keys.versionSkPrefix },
          ProjectionExpression: VERSION_INFO_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(VERSION_INFO_ATTRIBUTES.map((name, i) => [`#a${i}`, name])),
          ScanIndexForward: false,
          ExclusiveStartKey: before === undefined ? undefined : { pk, sk: keys.versionSk(before) },
          Limit: page.limit,
          ConsistentRead: true,
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => ({
      version: item.version as number,
      createdAt: item.createdAt as string,
      createdBy: item.createdBy as string,
      keyVersion: item.keyVersion as number,
    }));
    const last = items.at(-1);
    return { items, ...(result.LastEvaluatedKey && last ? { cursor: encodeCursor(last.version) } : {}) };
  }

  async markDeleted(path: SecretPath, at: string, by: string, audit?: PendingAudit): Promise<void> {
    await this.update(
      {
        TableName: this.table,
        Key: { pk: this.headsPk, sk: path },
        UpdateExpression: 'SET deletedAt = :at, deletedBy = :by',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':at': at, ':by': by },
      },
      audit,
    );
  }

  async restore(path: SecretPath, at: string, by: string, audit?: PendingAudit): Promise<void> {
    await this.update(
      {
        TableName: this.table,
        Key: { pk: this.headsPk, sk: path },
        UpdateExpression: 'REMOVE deletedAt, deletedBy SET updatedAt = :at, updatedBy = :by',
        ConditionExpression: 'attribute_exists(deletedAt) AND attribute_not_exists(purging)',
        ExpressionAttributeValues: { ':at': at, ':by': by },
      },
      audit,
    );
  }

  async purge(path: SecretPath, audit?: PendingAudit): Promise<void> {
    const headKey = { pk: this.headsPk, sk: path };
    // Mark first (with the audit event): a purge interrupted midway leaves a head that cannot
    // be restored and that the next purge call finishes. The head goes last, so nothing is orphaned.
    // An Idempotency-Key commits with that last delete, not with the mark: a retry of a purge
    // cut off midway must run on and finish it, not replay "done".
    const { idempotency, ...eventOnly } = audit ?? {};
    await this.update(
      {
        TableName: this.table,
        Key: headKey,
        UpdateExpression: 'SET purging = :yes',
        ConditionExpression: 'attribute_exists(deletedAt)',
        ExpressionAttributeValues: { ':yes': true },
      },
      audit ? (eventOnly as PendingAudit) : undefined,
    );
    const pk = keys.secretVersions(this.tenantId, path);
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey: exclusiveStartKey,
            Limit: 100,
          }),
        ),
      );
      const versionKeys = (page.Items ?? []).map((item) => ({ pk: item.pk as string, sk: item.sk as string }));
      for (let i = 0; i < versionKeys.length; i += BATCH_WRITE_LIMIT) {
        // Out of time: stop here; the mark makes the next purge call finish the rest.
        if (audit?.signal?.aborted) throw new DeadlineExceededError();
        await this.deleteBatch(versionKeys.slice(i, i + BATCH_WRITE_LIMIT));
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
    const lastDelete = { TableName: this.table, Key: headKey, ConditionExpression: 'purging = :yes', ExpressionAttributeValues: { ':yes': true } };
    if (idempotency) {
      const committed = commitClaimItem(this.table, idempotency, audit!.draft.status);
      await dynamo(() => this.db.send(new TransactWriteCommand({ TransactItems: [{ Delete: lastDelete }, committed] })));
    } else {
      await dynamo(() => this.db.send(new DeleteCommand(lastDelete)));
    }
  }

  /** A single-item change; with an audit event it becomes a transaction of the two. */
  private async update(update: UpdateInput, audit: PendingAudit | undefined): Promise<void> {
    if (audit) {
      await this.auditLog.transact([{ Update: update }], audit);
    } else {
      await dynamo(() => this.db.send(new UpdateCommand(update)));
    }
  }

  private async deleteBatch(batch: { pk: string; sk: string }[]): Promise<void> {
    let requests = batch.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      if (attempt > 8) throw new InternalError('purge could not finish; retry the purge');
      const result = await dynamo(() => this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } })));
      requests = (result.UnprocessedItems?.[this.table] ?? []) as typeof requests;
    }
  }
}

function toSummary(item: HeadItem): SecretSummary {
  return {
    path: item.path as SecretPath,
    version: item.version,
    createdAt: item.createdAt,
    createdBy: item.createdBy,
    updatedAt: item.updatedAt,
    updatedBy: item.updatedBy,
    ...(item.description === undefined ? {} : { description: item.description }),
    tags: item.tags ?? {},
    ...(item.deletedAt === undefined ? {} : { deletedAt: item.deletedAt, deletedBy: item.deletedBy ?? 'unknown' }),
  };
}

function toHead(item: HeadItem): SecretHead {
  return {
    ...toSummary(item),
    latest: {
      path: item.path as SecretPath,
      version: item.version,
      createdAt: item.latestCreatedAt,
      createdBy: item.latestCreatedBy,
      keyVersion: item.latestKeyVersion,
      ciphertext: item.latestCiphertext,
    },
  };
}

function toVersion(item: VersionItem): SecretVersionRecord {
  return {
    path: item.path as SecretPath,
    version: item.version,
    createdAt: item.createdAt,
    createdBy: item.createdBy,
    keyVersion: item.keyVersion,
    ciphertext: item.ciphertext,
  };
}
