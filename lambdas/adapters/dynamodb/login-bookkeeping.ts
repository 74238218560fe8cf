import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LoginBookkeeping, UserRecord } from '../../ports/identity';
import { getItem, identityKey, ifCondition, strip, ttl, type ItemKey } from './identity-items';
import { dynamo } from './errors';
import { keys } from './keys';

const throttleKey = (source: string, windowStart: number): ItemKey => ({ pk: keys.sourceThrottlePk(source), sk: keys.throttleWindowSk(windowStart) });

/** The decoy item lives a day past the last attempt that wrote it. */
const DECOY_TTL_SECONDS = 86_400;

/**
 * Failure counts, locks, TOTP steps and nonces: conditional single-item writes, each of
 * which also moves the record's `rev`, so an admin edit read before it cannot write it away;
 * and the per-source count of failed client logins.
 */
export class DynamoLoginBookkeeping implements LoginBookkeeping {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordSuccess(tenantId: string, kind: 'user', name: string): Promise<void> {
    await this.update(identityKey(tenantId, kind, name), 'SET failedAttempts = :zero REMOVE lockedUntil ADD #rev :one', 'attribute_exists(pk)', { ':zero': 0 });
  }

  async reserveAttempt(tenantId: string, username: string, now: number, threshold: number, relockAt: (failures: number) => number | undefined): Promise<number | undefined> {
    const key = identityKey(tenantId, 'user', username);
    const reserved = await this.update(
      key,
      'ADD failedAttempts :one, #rev :one',
      'attribute_exists(pk) AND attribute_not_exists(lockedUntil) AND (attribute_not_exists(failedAttempts) OR failedAttempts < :threshold)',
      { ':threshold': threshold },
      true,
    );
    if (reserved) return Number(reserved.failedAttempts ?? 1);
    const item = await getItem(this.db, this.table, key);
    if (!item) return undefined;
    const user = strip<UserRecord>(item);
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
    const claimed = await this.update(
      key,
      next === undefined ? 'ADD failedAttempts :one, #rev :one REMOVE lockedUntil' : 'SET lockedUntil = :next ADD failedAttempts :one, #rev :one',
      'lockedUntil = :seen',
      { ':seen': user.lockedUntil, ...(next === undefined ? {} : { ':next': next }) },
    );
    return claimed ? failures : undefined;
  }

  async decoyAttempt(tenantId: string): Promise<void> {
    // The same UpdateItem as a reservation, and like it one that succeeds: a write that
    // lands costs DynamoDB more than a failed condition (the attack run measured the gap),
    // so an unknown name spends a real write too — on one decoy item per tenant.
    // It expires a day after the last such attempt: a name guessed in a tenant that does not
    // exist leaves nothing behind for good.
    await this.update(
      { pk: keys.identity(tenantId), sk: keys.decoySk },
      'ADD failedAttempts :one, #rev :one SET expiresAt = :ttl',
      'attribute_not_exists(lockedUntil)',
      { ':ttl': Math.floor(Date.now() / 1000) + DECOY_TTL_SECONDS },
      true,
    );
  }

  async lockUser(tenantId: string, username: string, until: number): Promise<void> {
    await this.lock(identityKey(tenantId, 'user', username), until);
  }

  async claimOtpStep(tenantId: string, username: string, step: number): Promise<boolean> {
    const key = identityKey(tenantId, 'user', username);
    return (await this.update(key, 'SET totp.lastStep = :step ADD #rev :one', 'attribute_exists(totp) AND totp.lastStep < :step', { ':step': step })) !== undefined;
  }

  async sourceFailures(source: string, windowStart: number): Promise<number> {
    const item = await getItem(this.db, this.table, throttleKey(source, windowStart));
    return Number(item?.failures ?? 0);
  }

  async countSourceFailure(source: string, windowStart: number, windowEnd: number): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: throttleKey(source, windowStart),
          UpdateExpression: 'ADD failures :one SET expiresAt = if_not_exists(expiresAt, :ttl)',
          ExpressionAttributeValues: { ':one': 1, ':ttl': ttl(windowEnd) },
        }),
      ),
    );
  }

  async claimNonce(tenantId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const put = new PutCommand({
      TableName: this.table,
      Item: { pk: keys.identity(tenantId), sk: keys.nonceSk(nonce), validUntil: expiresAt, expiresAt: ttl(expiresAt) },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    return (await ifCondition(this.db, put)) !== undefined;
  }

  /** Never shortens a lock already set (a later failure may have set a longer one). */
  private async lock(key: ItemKey, until: number): Promise<void> {
    await this.update(key, 'SET lockedUntil = :until ADD #rev :one', 'attribute_exists(pk) AND (attribute_not_exists(lockedUntil) OR lockedUntil < :until)', { ':until': until });
  }

  /** A conditional update on a user or client that moves `rev`; undefined when the condition failed. */
  private update(key: ItemKey, update: string, condition: string, values: Record<string, unknown>, returnNew = false) {
    return ifCondition(
      this.db,
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
}
