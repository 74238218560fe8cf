import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord, SessionStore } from '../../ports/identity';
import { dynamo } from './errors';
import { getItem, ifCondition, sessionKey, strip, ttl } from './identity-items';

/** 30 days of hourly refreshes fit with room to spare; the item stays far below 400 KB. */
const MAX_REFRESHES_PER_SESSION = 2000;

/** Login sessions, one item each; DynamoDB TTL removes them after they expire. */
export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createSession(session: SessionRecord): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...sessionKey(session.tenantId, session.sessionId), ...session, expiresAt: ttl(session.absoluteExpiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getSession(tenantId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const item = await getItem(this.db, this.table, sessionKey(tenantId, sessionId));
    // A tombstone (a revoked token-only session) has no username: it is not a login session.
    return item && item.username !== undefined ? strip<SessionRecord>(item) : undefined;
  }

  async rotateSession(tenantId: string, sessionId: string, presentedHash: string, nextHash: string, now: number, expiresAt: number): Promise<boolean> {
    const rotate = new UpdateCommand({
      TableName: this.table,
      Key: sessionKey(tenantId, sessionId),
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
    return (await ifCondition(this.db, rotate)) !== undefined;
  }

  async revokeSession(tenantId: string, sessionId: string, expiresAt: number): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: sessionKey(tenantId, sessionId),
          // A token-only session (client, IAM, JWT) has no record yet: this makes a tombstone.
          UpdateExpression: 'SET revoked = :true, expiresAt = if_not_exists(expiresAt, :ttl)',
          ExpressionAttributeValues: { ':true': true, ':ttl': ttl(expiresAt) },
        }),
      ),
    );
  }
}
