import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, InternalError, WriteConflictError } from '../../core/errors';
import { TENANT_ID } from '../../core/ids';
import type { Page, PageRequest } from '../../ports/page';
import type {
  ClientRecord,
  ClientRepository,
  CredentialScope,
  DataKeyRecord,
  PlatformClientStore,
  TenantRecord,
  TenantRepository,
} from '../../ports/tenant-repository';
import type { PendingAudit } from '../../ports/audit-log';
import type { DynamoAuditLog } from './audit-log';
import { decodeCursor, encodeCursor } from './cursor';
import { dynamo } from './errors';
import { keys } from './keys';

const isTenantPosition = (p: unknown): p is string => typeof p === 'string' && TENANT_ID.test(p);
const strip = <T extends object>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
};

/** Platform-level records: tenants, their wrapped data keys and API clients. */
export class DynamoTenantRepository implements TenantRepository, ClientRepository, PlatformClientStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Needed only by writers that commit audit events with their changes. */
    private readonly auditLog?: DynamoAuditLog,
  ) {}

  async createTenant(tenant: TenantRecord, dataKey: DataKeyRecord, owner: ClientRecord, audit?: PendingAudit): Promise<void> {
    const notExists = { ConditionExpression: 'attribute_not_exists(pk)' };
    const put = (item: Record<string, unknown>) => ({ Put: { TableName: this.table, Item: item, ...notExists } });
    const items = [
      put({ pk: keys.tenantMeta(tenant.tenantId), sk: keys.tenantSk, ...tenant }),
      put({ pk: keys.tenantIndexPk, sk: keys.tenantIndexSk(tenant.tenantId), ...tenant }),
      put({ pk: keys.tenantMeta(tenant.tenantId), sk: keys.dataKeySk(dataKey.keyVersion), ...dataKey }),
      put({ pk: keys.clientPk(owner.scope), sk: keys.clientSk(owner.clientId), ...owner }),
      // The count of direct Owners: the last one can never be removed (core/identity).
      put({ pk: keys.identity(tenant.tenantId), sk: keys.ownersSk, count: 1 }),
    ];
    try {
      if (this.auditLog) {
        await this.auditLog.transact(items, audit);
      } else if (audit) {
        throw new InternalError('tenant repository built without an audit log');
      } else {
        await dynamo(() => this.db.send(new TransactWriteCommand({ TransactItems: items })));
      }
    } catch (error) {
      if (error instanceof WriteConflictError) throw new ConflictError(`Tenant '${tenant.tenantId}' already exists.`);
      throw error;
    }
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keys.tenantMeta(tenantId), sk: keys.tenantSk }, ConsistentRead: true })),
    );
    return Item ? strip<TenantRecord>(Item) : undefined;
  }

  async listTenants(page: PageRequest): Promise<Page<TenantRecord>> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isTenantPosition);
    const result = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
          ExpressionAttributeValues: { ':pk': keys.tenantIndexPk, ':t': keys.tenantIndexSkPrefix },
          ExclusiveStartKey: after === undefined ? undefined : { pk: keys.tenantIndexPk, sk: keys.tenantIndexSk(after) },
          Limit: page.limit,
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => strip<TenantRecord>(item));
    const last = items.at(-1);
    return { items, ...(result.LastEvaluatedKey && last ? { cursor: encodeCursor(last.tenantId) } : {}) };
  }

  async getDataKey(tenantId: string, keyVersion: number): Promise<DataKeyRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk: keys.tenantMeta(tenantId), sk: keys.dataKeySk(keyVersion) }, ConsistentRead: true }),
      ),
    );
    return Item ? strip<DataKeyRecord>(Item) : undefined;
  }

  async get(scope: CredentialScope, clientId: string): Promise<ClientRecord | undefined> {
    const { Item } = await dynamo(() =>
      this.db.send(new GetCommand({ TableName: this.table, Key: { pk: keys.clientPk(scope), sk: keys.clientSk(clientId) }, ConsistentRead: true })),
    );
    return Item ? strip<ClientRecord>(Item) : undefined;
  }

  async put(client: ClientRecord, mustBeNew: boolean): Promise<void> {
    try {
      await dynamo(() =>
        this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: keys.clientPk(client.scope), sk: keys.clientSk(client.clientId), ...client },
            ...(mustBeNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
          }),
        ),
      );
    } catch (error) {
      if (error instanceof WriteConflictError) throw new ConflictError(`Client '${client.clientId}' already exists.`);
      throw error;
    }
  }

  getPlatformClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.get('platform', clientId);
  }

  async listPlatformClients(): Promise<ClientRecord[]> {
    const clients: ClientRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
            ExpressionAttributeValues: { ':pk': keys.clientPk('platform'), ':c': keys.clientSkPrefix },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      clients.push(...(page.Items ?? []).map((item) => strip<ClientRecord>(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return clients;
  }

  async savePlatformClient(client: ClientRecord, expectedRev: number | undefined, audit: PendingAudit): Promise<void> {
    if (client.scope !== 'platform') throw new InternalError('savePlatformClient was handed a tenant client');
    if (!this.auditLog) throw new InternalError('tenant repository built without an audit log');
    const condition =
      expectedRev === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'attribute_exists(pk) AND (#rev = :rev OR (attribute_not_exists(#rev) AND :rev = :one))', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': expectedRev, ':one': 1 } };
    try {
      await this.auditLog.transact([{ Put: { TableName: this.table, Item: { pk: keys.clientPk('platform'), sk: keys.clientSk(client.clientId), ...client }, ...condition } }], audit);
    } catch (error) {
      if (error instanceof WriteConflictError && expectedRev === undefined) throw new ConflictError(`Client '${client.clientId}' already exists.`);
      throw error;
    }
  }
}
