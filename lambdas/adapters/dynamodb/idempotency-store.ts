import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord } from '../../core/idempotency';
import type { IdempotencyClaim, IdempotencyStore, NewClaim } from '../../ports/idempotency';
import type { TransactItem } from './client';
import { dynamo, translateDynamoError } from './errors';
import { keys } from './keys';

const names = { '#state': 'state', '#owner': 'owner', '#status': 'status' };
const keyOf = (at: Omit<IdempotencyClaim, 'owner'>) => ({ pk: keys.idempotency(at.tenantId, at.id), sk: keys.idempotencySk });

/** Idempotency-Key records in the single table, one partition each (no hot key). */
export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async claim(at: Omit<IdempotencyClaim, 'owner'>, claim: NewClaim, takeOver?: { readonly owner: string }): Promise<IdempotencyRecord | undefined> {
    const Key = keyOf(at);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...Key, ...claim, state: 'running' },
          // TTL deletes lazily: a record past its expiry is free even while it still exists.
          ...(takeOver
            ? { ConditionExpression: '#state = :running AND #owner = :previous', ExpressionAttributeValues: { ':running': 'running', ':previous': takeOver.owner }, ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' } }
            : { ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now', ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) } }),
        }),
      );
      return undefined;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw translateDynamoError(error);
    }
    const { Item } = await dynamo(() => this.db.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true })));
    // Gone between the two calls (expired and swept): nobody holds it, so claim it afresh.
    return Item ? toRecord(Item) : this.claim(at, claim);
  }

  async answer(claim: IdempotencyClaim, status: number, sealed: string): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keyOf(claim),
          UpdateExpression: 'SET #state = :answered, #status = :status, answer = :answer',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':answered': 'answered', ':status': status, ':answer': sealed, ':owner': claim.owner },
        }),
      ),
    );
  }

  /** A no-op when the claim is no longer running here (its change committed, or it was taken over). */
  async release(claim: IdempotencyClaim): Promise<void> {
    await dynamo(() =>
      this.db
        .send(
        new DeleteCommand({
          TableName: this.table,
          Key: keyOf(claim),
          ConditionExpression: '#owner = :owner AND #state = :running',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': claim.owner, ':running': 'running' },
        }),
        )
        .catch((error: { name?: string }) => {
          if (error?.name !== 'ConditionalCheckFailedException') throw error;
        }),
    );
  }
}

/**
 * The update that rides in a change's transaction: the change commits only while this
 * request still holds the key, and the key is marked committed in the same step, so a
 * retry can never run the change a second time.
 */
export function commitClaimItem(table: string, claim: IdempotencyClaim, status: number): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: keyOf(claim),
      UpdateExpression: 'SET #state = :committed, #status = :status',
      ConditionExpression: '#owner = :owner AND #state = :running',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':committed': 'committed', ':status': status, ':owner': claim.owner, ':running': 'running' },
    },
  };
}

function toRecord(item: Record<string, unknown>): IdempotencyRecord {
  return {
    fingerprint: String(item.fingerprint),
    state: item.state as IdempotencyRecord['state'],
    owner: String(item.owner),
    lockedUntil: Number(item.lockedUntil),
    correlationId: String(item.correlationId),
    ...(item.status === undefined ? {} : { status: Number(item.status) }),
    ...(item.answer === undefined ? {} : { answer: String(item.answer) }),
  };
}
