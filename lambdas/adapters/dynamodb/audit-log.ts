import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EMPTY_CHAIN, chainEvent, type AuditDraft, type AuditEvent, type ChainHead } from '../../core/audit';
import { DeadlineExceededError, DependencyUnavailableError, IdempotencyKeyInUseError } from '../../core/errors';
import type { AuditLog, AuditQueryRequest, AuditReader, PendingAudit } from '../../ports/audit-log';
import type { ShippingSource } from '../../ports/audit-archive';
import type { Page } from '../../ports/page';
import type { TransactItem } from './client';
import { decodeCursor, encodeCursor } from './cursor';
import { commitClaimItem } from './idempotency-store';
import { dynamo, translateDynamoError } from './errors';
import { keys } from './keys';

/** Events stay queryable in DynamoDB this long; S3 (Object Lock) keeps them for years. */
export const AUDIT_HOT_RETENTION_DAYS = 90;
/** A sparse filter stops reading here and returns a cursor (bounded time per request). */
const MAX_EVENTS_READ_PER_QUERY = 5000;
/**
 * Contention on a chain's next seq is retried for this long; beyond it the request fails
 * closed (503). Time, not a count: a loser behind a busy writer needs many quick tries.
 */
const CHAIN_RETRY_MS = 3_000;


const STORAGE_ATTRIBUTES = new Set(['pk', 'sk', 'expiresAt']);
const isSeqPosition = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 0;

/**
 * The audit chains in the single table, one item per event (`E#<seq>`). Appending claims the
 * next seq with a conditional put (`attribute_not_exists`), so two writers can never both
 * link to the same predecessor: the chain cannot fork. The tail is simply the last `E#`
 * item, cached per container, so a warm append is one PutItem; a mutation adds that put
 * to its own transaction and commits change and event together.
 */
export class DynamoAuditLog implements AuditLog, AuditReader, ShippingSource {
  /** Last event this container wrote or read, per chain: a warm append needs no read. */
  private readonly heads = new Map<string, ChainHead>();
  /** The append in flight per chain in this container; the next one waits for it. */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async append(draft: AuditDraft, options: { readonly withinMs?: number } = {}): Promise<AuditEvent> {
    try {
      if (options.withinMs === undefined) return await this.commit([], draft);
      // Queued behind this container's appends for half the time at most: what holds the
      // queue may be this very request's hung transaction (the conditional put keeps the
      // chain whole without the queue). Every call is cut off when the time is up.
      const giveUpAt = Date.now() + options.withinMs;
      const ahead = this.appending.get(draft.chain);
      if (ahead) await Promise.race([ahead, new Promise((resolve) => setTimeout(resolve, options.withinMs! / 2).unref())]);
      return await this.claimNext([], draft, undefined, [], { giveUpAt, abort: AbortSignal.timeout(Math.max(1, giveUpAt - Date.now())) });
    } catch (error) {
      throw new DependencyUnavailableError('audit', { cause: error });
    }
  }

  /**
   * Writes `items` and, when given, the pending event in one transaction. A lost race for
   * the chain's next seq alone is retried after the new tail; a failed condition on `items`
   * is the caller's conflict and surfaces as WriteConflictError.
   */
  async transact(items: readonly TransactItem[], pending: PendingAudit | undefined): Promise<void> {
    if (!pending) {
      await dynamo(() => this.db.send(new TransactWriteCommand({ TransactItems: [...items] })));
      return;
    }
    const claimed = pending.idempotency ? [commitClaimItem(this.table, pending.idempotency, pending.draft.status)] : [];
    pending.recorded(await this.commit(items, pending.draft, pending.signal, claimed));
  }

  /** The chain's tail (seq and hash), read consistently; EMPTY_CHAIN for a new chain. */
  async head(chain: string, sendOptions?: { abortSignal: AbortSignal }): Promise<ChainHead> {
    const { Items } = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': keys.auditChain(chain), ':from': keys.auditEventSk(1), ':to': keys.auditEventSkAfterLast },
          ProjectionExpression: 'seq, #hash',
          ExpressionAttributeNames: { '#hash': 'hash' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
        sendOptions,
      ),
    );
    // The shipped mark never expires; events do, in no guaranteed order. The tail is the
    // later of the two, so an expired newest event is never claimed again (a fork).
    const shipped = await this.shipped(chain, sendOptions);
    const last = Items?.[0];
    return last && (last.seq as number) > shipped.seq ? { seq: last.seq as number, hash: last.hash as string } : shipped;
  }

  /** How far the shipper has archived this chain. */
  async shipped(chain: string, sendOptions?: { abortSignal: AbortSignal }): Promise<ChainHead> {
    const { Item } = await dynamo(() =>
      this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk: keys.auditChain(chain), sk: keys.auditShippedSk }, ConsistentRead: true }),
        sendOptions,
      ),
    );
    return Item ? { seq: Item.seq as number, hash: Item.hash as string } : EMPTY_CHAIN;
  }

  async markShipped(chain: string, from: ChainHead, to: ChainHead): Promise<void> {
    await dynamo(() =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: keys.auditChain(chain), sk: keys.auditShippedSk, seq: to.seq, hash: to.hash },
          ...(from.seq === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'seq = :from', ExpressionAttributeValues: { ':from': from.seq } }),
        }),
      ),
    );
  }

  /** Events with `seq > afterSeq`, oldest first (the shipper's read). */
  async after(chain: string, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const result = await dynamo(() =>
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': keys.auditChain(chain), ':from': keys.auditEventSk(afterSeq + 1), ':to': keys.auditEventSkAfterLast },
          Limit: limit,
          ConsistentRead: true,
        }),
      ),
    );
    return (result.Items ?? []).map(toEvent);
  }

  async query(chain: string, request: AuditQueryRequest): Promise<Page<AuditEvent>> {
    const afterSeq = request.cursor === undefined ? 0 : decodeCursor(request.cursor, isSeqPosition);
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': keys.auditChain(chain), ':from': keys.auditEventSk(afterSeq + 1), ':to': keys.auditEventSkAfterLast };
    if (request.from) (filters.push('#time >= :tFrom'), (names['#time'] = 'time'), (values[':tFrom'] = request.from));
    if (request.to) (filters.push('#time < :tTo'), (names['#time'] = 'time'), (values[':tTo'] = request.to));
    if (request.principal) (filters.push('actor.#id = :principal'), (names['#id'] = 'id'), (values[':principal'] = request.principal));
    if (request.path) (filters.push('begins_with(#resource, :path)'), (names['#resource'] = 'resource'), (values[':path'] = request.path));
    if (request.action) (filters.push('#action = :action'), (names['#action'] = 'action'), (values[':action'] = request.action));
    if (request.outcome) (filters.push('outcome = :outcome'), (values[':outcome'] = request.outcome));

    const events: AuditEvent[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    let read = 0;
    // A filter can thin a page out: read on until the page is full, the chain ends, or this
    // call has read its share — then the cursor says where to go on, even on a short page.
    do {
      const result = await dynamo(() =>
        this.db.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ExclusiveStartKey: exclusiveStartKey,
            Limit: Math.max(request.limit + 1, 100),
            ConsistentRead: true,
          }),
        ),
      );
      for (const item of result.Items ?? []) events.push(toEvent(item));
      read += result.ScannedCount ?? 0;
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (events.length <= request.limit && exclusiveStartKey && read < MAX_EVENTS_READ_PER_QUERY);
    const page = events.slice(0, request.limit);
    const last = page.at(-1);
    if (events.length > request.limit && last) return { items: page, cursor: encodeCursor(last.seq) };
    // Stopped early on a sparse filter: continue after the last event read, matched or not.
    const readTo = exclusiveStartKey ? Number(String(exclusiveStartKey.sk).slice(2)) : undefined;
    return { items: page, ...(readTo ? { cursor: encodeCursor(readTo) } : {}) };
  }

  /**
   * Appends in this container go one at a time per chain (they would only race each other);
   * across containers the conditional put decides, and a loser learns the winner's seq and
   * hash from the failed put itself, so a retry costs one more put, not a read.
   */
  private commit(items: readonly TransactItem[], draft: AuditDraft, signal?: AbortSignal, after: readonly TransactItem[] = []): Promise<AuditEvent> {
    const previous = this.appending.get(draft.chain) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.claimNext(items, draft, signal, after));
    const settled = next.catch(() => undefined);
    this.appending.set(draft.chain, settled);
    void settled.then(() => {
      if (this.appending.get(draft.chain) === settled) this.appending.delete(draft.chain);
    });
    return next;
  }

  /** `after` rides behind the event's put (an Idempotency-Key's commit), so the indices before it hold. */
  private async claimNext(
    items: readonly TransactItem[],
    draft: AuditDraft,
    signal: AbortSignal | undefined,
    after: readonly TransactItem[],
    budget?: { readonly giveUpAt: number; readonly abort: AbortSignal },
  ): Promise<AuditEvent> {
    const giveUpAt = Math.min(Date.now() + CHAIN_RETRY_MS, budget?.giveUpAt ?? Number.POSITIVE_INFINITY);
    const sendOptions = budget ? { abortSignal: budget.abort } : undefined;
    for (let attempt = 1; ; attempt++) {
      // The request has answered already (out of time): a change begun now would go unseen.
      if (signal?.aborted) throw new DeadlineExceededError();
      const head = this.heads.get(draft.chain) ?? (await this.head(draft.chain, sendOptions));
      const event = chainEvent(head, draft);
      const claim = this.claim(event);
      try {
        // Alone, the event is one conditional put; with a change, one transaction.
        if (items.length === 0 && after.length === 0) await this.db.send(new PutCommand(claim), sendOptions);
        else await this.db.send(new TransactWriteCommand({ TransactItems: [...items, { Put: claim }, ...after] }), sendOptions);
        this.heads.set(draft.chain, { seq: event.seq, hash: event.hash });
        return event;
      } catch (error) {
        this.heads.delete(draft.chain);
        const holder = holderOf(error, items.length);
        // The SDK retried a put whose first answer was lost: the seq is taken by this very
        // event. Appending it again would record the request twice.
        if (items.length === 0 && holder?.id === draft.id) {
          this.heads.set(draft.chain, { seq: event.seq, hash: event.hash });
          return event;
        }
        if (after.length > 0 && failedAfter(error, items.length + 1)) {
          throw new IdempotencyKeyInUseError('Another request took over this Idempotency-Key; nothing was changed. Retry shortly.');
        }
        if (!lostChainRace(error, items.length)) throw translateDynamoError(error);
        if (Date.now() >= giveUpAt) throw new DependencyUnavailableError('audit', { cause: error });
        // The event now holding our seq is the new tail, unless others followed it already:
        // a second loss in a row means this container's view is old (other containers have
        // appended many since), so the next attempt reads the real tail instead of stepping
        // through the gap one put at a time.
        if (attempt === 1 && holder?.seq === event.seq && holder.hash) this.heads.set(draft.chain, { seq: holder.seq, hash: holder.hash });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 2 ** attempt)));
      }
    }
  }

  /** The put that claims seq `event.seq` of its chain, or fails if another writer has it. */
  private claim(event: AuditEvent) {
    const expiresAt = Math.floor(Date.parse(event.time) / 1000) + AUDIT_HOT_RETENTION_DAYS * 86_400;
    return {
      TableName: this.table,
      Item: { ...event, pk: keys.auditChain(event.chain), sk: keys.auditEventSk(event.seq), expiresAt },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }
}

/** The event already holding the seq a failed claim wanted, when DynamoDB returned it. */
function holderOf(error: unknown, changeItems: number): { id?: string; seq?: number; hash?: string } | undefined {
  type Raw = { id?: { S?: string }; seq?: { N?: string }; hash?: { S?: string } };
  const e = error as { name?: string; Item?: Raw; CancellationReasons?: { Item?: Raw }[] };
  const item = e?.name === 'ConditionalCheckFailedException' ? e.Item : e?.CancellationReasons?.[changeItems]?.Item;
  if (!item) return undefined;
  return { id: item.id?.S, seq: item.seq?.N === undefined ? undefined : Number(item.seq.N), hash: item.hash?.S };
}

/** True when only the event's claim (after the first `changeItems`) lost its race. */
function lostChainRace(error: unknown, changeItems: number): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  // A put that meets a transaction in flight on the same item gets TransactionConflict.
  if (changeItems === 0) return e?.name === 'ConditionalCheckFailedException' || e?.name === 'TransactionConflictException';
  if (e?.name !== 'TransactionCanceledException' || !e.CancellationReasons) return false;
  const codes = e.CancellationReasons.map((r) => r.Code ?? 'None');
  const changeFailed = codes.slice(0, changeItems).some((code) => code !== 'None');
  const chainCode = codes[changeItems];
  const chainFailed = chainCode === 'ConditionalCheckFailed' || chainCode === 'TransactionConflict';
  return !changeFailed && chainFailed;
}

/** True when an item from index `from` on (behind the event's put) failed its condition. */
function failedAfter(error: unknown, from: number): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).slice(from).some((r) => r.Code === 'ConditionalCheckFailed');
}

function toEvent(item: Record<string, unknown>): AuditEvent {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !STORAGE_ATTRIBUTES.has(name))) as unknown as AuditEvent;
}
