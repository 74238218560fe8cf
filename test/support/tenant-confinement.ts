import { TENANT_CONTEXT_KEY } from '../../lambdas/adapters/kms/tenant-key-names';
import type { ObservedAwsCall } from '../../lambdas/adapters/call-counter';
import { TENANT_ITEM_ACTIONS } from '../../lib/constructs/tenant-access-role';
import { OWN_TABLE_GRANTS } from '../../lib/own-role-grants';
import { tenantAuditPartition, tenantPartitionsPattern } from '../../lib/tenant-partitions';

// What IAM would decide for a call signed with a tenant's session of the tenant-access role
// (lib/constructs/tenant-access-role.ts), from the same sources the role's policy is built
// from. Neither DynamoDB Local nor moto evaluates IAM, so the tests hold every call the
// runtime makes with a tenant session to these rules instead.

type Item = Record<string, { S?: string } | undefined>;

/** IAM StringLike: `*` any run, `?` one character. */
export const globMatches = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`).test(value);

/** Each item a DynamoDB call touches: the action IAM authorizes it by, and its partition key. */
export function itemActionsOf(call: ObservedAwsCall): { action: string; pk: string | undefined }[] {
  const input = call.input as Record<string, any>;
  const pkOf = (item: Item | undefined) => item?.pk?.S;
  switch (call.command) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return [{ action: call.command, pk: pkOf(input.Key) }];
    case 'PutItem':
      return [{ action: 'PutItem', pk: pkOf(input.Item) }];
    case 'Query':
      return [{ action: 'Query', pk: queriedPartition(input) }];
    case 'TransactWriteItems':
      return (input.TransactItems as any[]).map((t) =>
        t.Put ? { action: 'PutItem', pk: pkOf(t.Put.Item) }
        : t.Update ? { action: 'UpdateItem', pk: pkOf(t.Update.Key) }
        : t.Delete ? { action: 'DeleteItem', pk: pkOf(t.Delete.Key) }
        : { action: 'ConditionCheckItem', pk: pkOf(t.ConditionCheck?.Key) },
      );
    case 'TransactGetItems':
      return (input.TransactItems as any[]).map((t) => ({ action: 'GetItem', pk: pkOf(t.Get?.Key) }));
    case 'BatchGetItem':
      return Object.values(input.RequestItems as Record<string, { Keys: Item[] }>).flatMap((r) => r.Keys.map((k) => ({ action: 'BatchGetItem', pk: pkOf(k) })));
    case 'BatchWriteItem':
      return Object.values(input.RequestItems as Record<string, any[]>).flatMap((writes) =>
        writes.map((w) => ({ action: 'BatchWriteItem', pk: pkOf(w.PutRequest?.Item ?? w.DeleteRequest?.Key) })),
      );
    default:
      return [{ action: call.command, pk: undefined }];
  }
}

/** The partition a Query names: the value its key condition binds to `pk`. */
function queriedPartition(input: Record<string, any>): string | undefined {
  const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
  for (const [, name, value] of String(input.KeyConditionExpression ?? '').matchAll(/(#?\w+)\s*=\s*(:\w+)/g)) {
    if ((names[name!] ?? name) === 'pk') return input.ExpressionAttributeValues?.[value!]?.S;
  }
  return undefined;
}

/** Why IAM would refuse this call for a session of `tenantId`, or undefined when it allows it. */
export function refusalFor(tenantId: string, call: ObservedAwsCall): string | undefined {
  if (call.service === 'dynamodb') {
    for (const { action, pk } of itemActionsOf(call)) {
      if (!(TENANT_ITEM_ACTIONS as readonly string[]).includes(`dynamodb:${action}`)) return `${call.command}: dynamodb:${action} is not an allowed item action`;
      if (pk === undefined) return `${call.command}: names no partition (the Null guard refuses it)`;
      if (!globMatches(tenantPartitionsPattern(tenantId), pk)) return `${call.command}: ${pk} is not a partition of ${tenantId}`;
      if ((action === 'UpdateItem' || action === 'BatchWriteItem') && pk === tenantAuditPartition(tenantId)) return `${call.command}: ${action} on the audit chain`;
    }
    return undefined;
  }
  if (call.service === 'kms') {
    if (!['Decrypt', 'Encrypt', 'GenerateDataKey'].includes(call.command)) return `kms:${call.command} is not allowed`;
    const context = (call.input.EncryptionContext ?? {}) as Record<string, string>;
    if (context[TENANT_CONTEXT_KEY] !== tenantId) return `kms:${call.command} without ${TENANT_CONTEXT_KEY}=${tenantId}`;
    return undefined;
  }
  return `${call.service}:${call.command} is not allowed to a tenant session`;
}

/**
 * Why IAM would refuse this call made by `fn` (secrets, audit, identity) with its own role,
 * outside any tenant's request, or undefined when its grants (lib/own-role-grants.ts) allow it.
 */
export function refusalForOwnRole(fn: keyof typeof OWN_TABLE_GRANTS, call: ObservedAwsCall): string | undefined {
  if (call.service !== 'dynamodb') return `${fn}: ${call.service}:${call.command} is not granted to its own role`;
  for (const { action, pk } of itemActionsOf(call)) {
    const granted = OWN_TABLE_GRANTS[fn].some(
      (grant) => (grant.actions as readonly string[]).includes(`dynamodb:${action}`) && pk !== undefined && grant.leadingKeys.some((pattern) => globMatches(pattern, pk)),
    );
    if (!granted) return `${fn}: ${call.command} (dynamodb:${action}) on ${pk ?? 'no partition'} is not granted to its own role`;
  }
  return undefined;
}
