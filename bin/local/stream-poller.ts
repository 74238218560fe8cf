import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

export type StreamBatchHandler = (records: DynamoDBRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

export interface StreamPoller {
  /** Resolves once every record seen so far has been handled without failure (or throws after `maxPolls`). */
  drain(options?: { maxPolls?: number }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The local stand-in for a DynamoDB Streams → Lambda event source mapping: reads the
 * table's stream with the real Streams API and hands each batch to the handler. Records of
 * a batch the handler reports as failed are delivered again on the next poll (at least
 * once), as Lambda does with ReportBatchItemFailures.
 */
export async function startStreamPoller(options: {
  endpoint: string;
  region: string;
  table: string;
  handler: StreamBatchHandler;
  intervalMs?: number;
}): Promise<StreamPoller> {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const dynamo = new DynamoDBClient({ region: options.region, endpoint: options.endpoint, credentials });
  const streams = new DynamoDBStreamsClient({ region: options.region, endpoint: options.endpoint, credentials });
  const latestStream = async () => {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.table }));
    if (!Table?.LatestStreamArn) throw new Error(`table ${options.table} has no stream`);
    return Table.LatestStreamArn;
  };
  let streamArn = await latestStream();

  const iterators = new Map<string, string | undefined>();
  /** The last record handed on from each shard: where to take the shard up again. */
  const lastSequence = new Map<string, string>();
  let redeliver: DynamoDBRecord[] = [];
  let stopped = false;
  let idle = false;
  let current: Promise<void> = Promise.resolve();

  async function refreshShards(): Promise<void> {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      iterators.set(shard.ShardId, await iteratorFor(shard.ShardId));
    }
  }

  /** From the start of a shard, or just after the last record taken from it. */
  async function iteratorFor(shardId: string): Promise<string | undefined> {
    const after = lastSequence.get(shardId);
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  /**
   * An iterator expired (they last 15 minutes), or the stream was replaced (the emulator may
   * do so after a failed transaction): take the shard up again after its last record, or
   * start over on the new stream. Without this the archive would stop for good.
   */
  async function recover(shardId: string, error: unknown): Promise<void> {
    const name = (error as { name?: string }).name;
    const latest = await latestStream();
    if (latest !== streamArn) {
      console.error(`local audit shipper: the table's stream was replaced (${name}); reading the new one from its start`);
      streamArn = latest;
      iterators.clear();
      lastSequence.clear();
      return;
    }
    console.error(`local audit shipper: shard ${shardId} needs a new iterator (${name}); resuming after its last record`);
    iterators.set(shardId, await iteratorFor(shardId));
  }

  async function poll(): Promise<void> {
    await refreshShards();
    let fresh = 0;
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error) {
        if (!RECOVERABLE.has((error as { name?: string }).name ?? '')) throw error;
        await recover(shardId, error);
        fresh++; // not idle: read again at once
        break; // the shard map may have changed under this loop
      }
      iterators.set(shardId, page.NextShardIterator);
      // Queued as soon as the iterator moved past them: a throw below cannot lose them.
      const records = (page.Records ?? []).map(toLambdaRecord);
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last) lastSequence.set(shardId, last);
      redeliver = [...redeliver, ...records];
      fresh += records.length;
    }
    const batch = redeliver;
    if (batch.length === 0) {
      idle = fresh === 0;
      return;
    }
    // If the handler throws, `redeliver` still holds the whole batch for the next poll.
    const { batchItemFailures } = await options.handler(batch);
    const failedFrom = batchItemFailures.map((f) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier)).filter((i) => i >= 0);
    redeliver = failedFrom.length > 0 ? batch.slice(Math.min(...failedFrom)) : [];
    idle = redeliver.length === 0 && fresh === 0;
  }

  const interval = options.intervalMs ?? 500;
  const timer = setInterval(() => {
    current = current.then(() => (stopped ? undefined : poll())).catch((error: unknown) => {
      console.error('local audit shipper: poll failed; retrying', error);
    });
  }, interval);

  return {
    async drain({ maxPolls = 200 } = {}) {
      for (let i = 0; i < maxPolls; i++) {
        idle = false;
        await (current = current.then(() => poll()));
        if (idle && redeliver.length === 0) return;
      }
      throw new Error('the audit stream did not drain');
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current.catch(() => undefined);
      dynamo.destroy();
      streams.destroy();
    },
  };
}

/** GetRecords errors that a fresh iterator cures. */
const RECOVERABLE = new Set(['ExpiredIteratorException', 'TrimmedDataAccessException', 'ResourceNotFoundException']);

function toLambdaRecord(record: StreamRecord): DynamoDBRecord {
  // The Streams API and the Lambda event share the record shape; only the types differ.
  return record as unknown as DynamoDBRecord;
}
