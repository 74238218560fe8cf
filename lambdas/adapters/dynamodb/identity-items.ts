import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient, type PutCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DependencyUnavailableError, WriteConflictError } from '../../core/errors';
import type { IdentityKind } from '../../ports/identity';
import { dynamo } from './errors';
import { keys } from './keys';

// What the identity adapters share: where each kind of record lives, and the reads and
// conditional writes they all make. Every identity item of a tenant sits under one pk.

/** Where each kind lives: clients keep the foundation's layout (META, CLIENT#id). */
export const LAYOUT: Record<IdentityKind, { prefix: string; nameField: string; pk: (tenantId: string) => string }> = {
  user: { prefix: 'USER#', nameField: 'username', pk: keys.identity },
  group: { prefix: 'GROUP#', nameField: 'name', pk: keys.identity },
  policy: { prefix: 'ACCESS#POLICY#', nameField: 'name', pk: keys.identity },
  issuer: { prefix: 'ISSUER#', nameField: 'name', pk: keys.identity },
  'iam-binding': { prefix: 'IAMBIND#', nameField: 'name', pk: keys.identity },
  client: { prefix: 'CLIENT#', nameField: 'clientId', pk: (tenantId) => keys.clientPk(tenantId) },
};

export type ItemKey = { readonly pk: string; readonly sk: string };

export function identityKey(tenantId: string, kind: IdentityKind, name: string): ItemKey {
  const layout = LAYOUT[kind];
  return { pk: layout.pk(tenantId), sk: `${layout.prefix}${name}` };
}

export function sessionKey(tenantId: string, sessionId: string): ItemKey {
  return { pk: keys.identity(tenantId), sk: keys.sessionSk(sessionId) };
}

/** The record without the table's own attributes (keys, TTL). */
export const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as T;
};

/** Sessions and nonces linger this long after they expire, then DynamoDB TTL removes them. */
const TTL_GRACE_SECONDS = 3600;
/** The DynamoDB TTL attribute (epoch seconds) for something that stops mattering at epochMs. */
export const ttl = (epochMs: number) => Math.ceil(epochMs / 1000) + TTL_GRACE_SECONDS;

export async function getItem(db: DynamoDBDocumentClient, table: string, key: ItemKey): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo(() => db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })));
  return Item;
}

/** One BatchGetItem (retrying unprocessed keys); items by sort key. Keys share no sort key. */
export async function batchGet(db: DynamoDBDocumentClient, table: string, wanted: readonly ItemKey[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = [...wanted];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === 5) throw new DependencyUnavailableError('dynamodb');
    const result = await dynamo(() => db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } })));
    for (const item of result.Responses?.[table] ?? []) found.set(String(item.sk), item);
    pending = (result.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    if (pending.length) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
  }
  return found;
}

/** Runs a conditional write: its returned attributes ({} if none) when it applied, undefined when its condition failed. */
export async function ifCondition(db: DynamoDBDocumentClient, command: UpdateCommand | PutCommand): Promise<Record<string, unknown> | undefined> {
  try {
    const result = (await dynamo(() => db.send(command as UpdateCommand))) as { Attributes?: Record<string, unknown> };
    return result.Attributes ?? {};
  } catch (error) {
    if (error instanceof WriteConflictError) return undefined;
    throw error;
  }
}
