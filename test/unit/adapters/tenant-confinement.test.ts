import { describe, expect, it } from 'vitest';
import type { ObservedAwsCall } from '../../../lambdas/adapters/call-counter';
import { keys } from '../../../lambdas/adapters/dynamodb/keys';
import { newTenantId } from '../../../lambdas/core/ids';
import { refusalFor } from '../../support/tenant-confinement';

// The offline stand-in for IAM that token-vending.test.ts holds every tenant-session call
// to: it must refuse what the tenant-access role refuses, or that test proves nothing.

const tenant = newTenantId();
const other = newTenantId();
const S = (value: string) => ({ S: value });
const call = (service: string, command: string, input: Record<string, unknown>): ObservedAwsCall => ({ service, command, input, accessKeyId: 'ASIA', actingTenant: tenant, functionName: 'secrets' });

describe('the tenant-confinement judge', () => {
  it("allows the tenant's own item calls and KMS calls with its encryption context", () => {
    const allowed = [
      call('dynamodb', 'GetItem', { Key: { pk: S(keys.secretHeads(tenant)), sk: S('x') } }),
      call('dynamodb', 'PutItem', { Item: { pk: S(keys.auditChain(tenant)), sk: S('E#1') } }),
      call('dynamodb', 'Query', { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': S(keys.identity(tenant)), ':p': S('U#') } }),
      call('dynamodb', 'Query', { KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': 'pk' }, ExpressionAttributeValues: { ':v': S(keys.tenantMeta(tenant)) } }),
      call('dynamodb', 'TransactWriteItems', { TransactItems: [{ Put: { Item: { pk: S(keys.secretVersions(tenant, 'a/b')) } } }, { ConditionCheck: { Key: { pk: S(keys.idempotency(tenant, 'k')) } } }] }),
      call('kms', 'Decrypt', { EncryptionContext: { 'coffer:tenant': tenant } }),
    ];
    expect(allowed.map((c) => refusalFor(tenant, c))).toEqual(allowed.map(() => undefined));
  });

  it("refuses another tenant's partition, a platform partition, a call naming none, and rewriting the trail", () => {
    const refused = [
      call('dynamodb', 'GetItem', { Key: { pk: S(keys.secretHeads(other)) } }),
      call('dynamodb', 'TransactWriteItems', { TransactItems: [{ Put: { Item: { pk: S(keys.secretHeads(tenant)) } } }, { Update: { Key: { pk: S(keys.auditChain(other)) } } }] }),
      call('dynamodb', 'BatchGetItem', { RequestItems: { t: { Keys: [{ pk: S(keys.identity(tenant)) }, { pk: S(keys.identity(other)) }] } } }),
      call('dynamodb', 'PutItem', { Item: { pk: S(keys.tenantIndexPk) } }),
      call('dynamodb', 'Query', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': S(`T#${tenant}X#META`) } }),
      call('dynamodb', 'Scan', {}),
      call('dynamodb', 'DescribeTable', {}),
      call('dynamodb', 'UpdateItem', { Key: { pk: S(keys.auditChain(tenant)) } }),
      call('kms', 'Decrypt', { EncryptionContext: { 'coffer:tenant': other } }),
      call('kms', 'Encrypt', {}),
      call('kms', 'ScheduleKeyDeletion', {}),
      call('s3', 'PutObject', {}),
    ];
    for (const c of refused) expect(refusalFor(tenant, c), JSON.stringify(c.input)).toBeDefined();
  });
});
