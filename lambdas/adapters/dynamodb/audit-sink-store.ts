import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditSink, SinkStatus } from '../../ports/audit-archive';
import { NotFoundError, WriteConflictError } from '../../core/errors';
import type { AuditSinkStore } from '../../ports/audit-archive';
import type { PendingAudit } from '../../ports/audit-log';
import type { DynamoAuditLog } from './audit-log';
import { dynamo } from './errors';
import { keys } from './keys';

const NEW_STATUS: SinkStatus = { deliveredSeq: 0, consecutiveFailures: 0 };

/**
 * A sink's configuration lives with the tenant's metadata (`T#<t>#META`, `SINK#<name>`),
 * written by the audit API; its delivery status lives in the tenant's audit partition
 * (`T#<t>#AUDIT`, `SINK#<name>`), written by the shipper — which may write nothing else.
 */
export class DynamoAuditSinkStore implements AuditSinkStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string, private readonly auditLog: DynamoAuditLog) {}

  async list(tenantId: string): Promise<AuditSink[]> {
    const [configs, statuses] = await Promise.all([this.sinkItems(keys.tenantMeta(tenantId)), this.sinkItems(keys.auditChain(tenantId))]);
    const statusOf = new Map(statuses.map((item) => [item.sk as string, item]));
    return configs.map((item) => {
      const { pk: _pk, sk, status: _none, ...sink } = item;
      const { pk: _spk, sk: _ssk, ...status } = statusOf.get(sk as string) ?? {};
      return { ...(sink as Omit<AuditSink, 'status'>), status: { ...NEW_STATUS, ...status } };
    });
  }

  private async sinkItems(pk: string): Promise<Record<string, unknown>[]> {
    const result = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sink)',
          ExpressionAttributeValues: { ':pk': pk, ':sink': keys.sinkSkPrefix },
          ConsistentRead: true,
        }),
      ),
    );
    return result.Items ?? [];
  }

  async put(sink: Omit<AuditSink, 'status'>, audit?: PendingAudit): Promise<AuditSink> {
    // Replacing a sink's target keeps its delivery mark: the new target continues from there.
    await this.auditLog.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: keys.tenantMeta(sink.tenantId), sk: keys.sinkSk(sink.name) },
            UpdateExpression: 'SET tenantId = :t, #name = :n, target = :target, createdAt = if_not_exists(createdAt, :at), createdBy = if_not_exists(createdBy, :by)',
            ExpressionAttributeNames: { '#name': 'name' },
            ExpressionAttributeValues: { ':t': sink.tenantId, ':n': sink.name, ':target': sink.target, ':at': sink.createdAt, ':by': sink.createdBy },
          },
        },
      ],
      audit,
    );
    return (await this.list(sink.tenantId)).find((s) => s.name === sink.name) ?? { ...sink, status: NEW_STATUS };
  }

  async delete(tenantId: string, name: string, audit?: PendingAudit): Promise<void> {
    const key = { pk: keys.tenantMeta(tenantId), sk: keys.sinkSk(name) };
    const statusKey = { pk: keys.auditChain(tenantId), sk: keys.sinkSk(name) };
    try {
      await this.auditLog.transact(
        [
          { Delete: { TableName: this.table, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
          { Delete: { TableName: this.table, Key: statusKey } },
        ],
        audit,
      );
    } catch (error) {
      if (error instanceof WriteConflictError) throw new NotFoundError(`No audit sink '${name}'.`);
      throw error;
    }
  }

  async recordDelivery(tenantId: string, name: string, deliveredSeq: number, at: string): Promise<void> {
    await this.setStatus(tenantId, name, 'SET deliveredSeq = :seq, lastDeliveryAt = :at, consecutiveFailures = :zero', {
      ':seq': deliveredSeq,
      ':at': at,
      ':zero': 0,
    });
  }

  async recordFailure(tenantId: string, name: string, error: string, at: string): Promise<void> {
    await this.setStatus(tenantId, name, 'SET lastError = :error, lastErrorAt = :at ADD consecutiveFailures :one', {
      ':error': error,
      ':at': at,
      ':one': 1,
    });
  }

  private async setStatus(tenantId: string, name: string, update: string, values: Record<string, unknown>): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: keys.auditChain(tenantId), sk: keys.sinkSk(name) },
          UpdateExpression: update,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }
}
